//! The run page's starting point: the last event of a run and, as of that event, how
//! far each log was read and how many points each series had. Read in one read
//! transaction, so the three agree (a log event and the offset it advances, and a
//! scalars event and its series' count, are committed together).

use runboard_shared::run::RunId;

use super::{Result, Store};

/// A run as of one event.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewRows {
    /// The last event.
    pub seq: u64,
    /// Each file whose reading is recorded (logs, and TensorBoard event files), and
    /// the bytes read into events.
    pub offsets: Vec<(String, u64)>,
    /// Each series: id, source, TensorBoard run, name, count.
    pub series: Vec<(i64, String, String, String, u64)>,
    /// Each non-numeric metric: name, kind, last value (JSON text), how many.
    pub values: Vec<(String, String, String, u64)>,
}

impl Store {
    /// [`ViewRows`] of a run, in one snapshot of the database.
    pub async fn view_rows(&self, run_id: &RunId) -> Result<ViewRows> {
        let mut tx = self.read.begin().await?;
        let id = run_id.as_str();
        let seq: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = ?")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let offsets: Vec<(String, i64)> =
            sqlx::query_as("SELECT path, offset FROM log_offsets WHERE run_id = ? ORDER BY path")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        let series: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, source, tb_run, name, count FROM series WHERE run_id = ? ORDER BY source, tb_run, name",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        // SQLite takes the bare columns of an aggregate query from the row of MAX().
        let values: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, kind, value, MAX(seq), COUNT(*) FROM metric_values WHERE run_id = ?
             GROUP BY name ORDER BY name",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(ViewRows {
            seq: n(seq),
            offsets: offsets.into_iter().map(|(p, o)| (p, n(o))).collect(),
            series: series
                .into_iter()
                .map(|(i, s, r, name, c)| (i, s, r, name, n(c)))
                .collect(),
            values: values
                .into_iter()
                .map(|(name, kind, value, _, c)| (name, kind, value, n(c)))
                .collect(),
        })
    }
}
