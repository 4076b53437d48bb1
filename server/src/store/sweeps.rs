//! Sweeps' rows (`sweeps`, `sweep_children`, `runs.parent_run_id`; see
//! `migrations/0005_sweeps.sql`). What the scheduler decides is written here before
//! it acts on it, so a restarted server resumes with the same decisions.

use runboard_shared::api::RunSummary;
use runboard_shared::event::RunEvent;
use runboard_shared::run::{RunId, RunStatus};

use super::{NewRun, RUN_COLUMNS, Result, Store, StoreError, insert_run, now};

/// A sweep as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    /// The parent run.
    pub run_id: RunId,
    /// `SweepConfig` JSON, the seed filled in.
    pub config: String,
    /// What every child's definition shares (JSON).
    pub template: serde_json::Value,
    /// When the sweep started (RFC 3339).
    pub started_at: String,
}

/// A child of a sweep as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepChildRow {
    /// The sampling's index: 0, 1, 2, …
    pub idx: u32,
    /// The child run.
    pub run_id: RunId,
    /// Its parameter values (JSON object).
    pub parameters: serde_json::Value,
    /// How many intervals of the primary metric the policy has looked at.
    pub evaluated: u32,
    /// Why the scheduler stopped it, if it did.
    pub stopped: Option<String>,
}

impl Store {
    /// Creates a sweep's parent run (in `Queued`) and its sweep row, in one
    /// transaction.
    pub async fn create_sweep(
        &self,
        parent: &NewRun,
        config: &str,
        template: &serde_json::Value,
    ) -> Result<RunEvent> {
        let mut tx = self.write.begin().await?;
        let event = insert_run(&mut tx, parent, None, RunStatus::Queued).await?;
        sqlx::query(
            "INSERT INTO sweeps (run_id, config, template, started_at) VALUES (?, ?, ?, ?)",
        )
        .bind(parent.run_id.as_str())
        .bind(config)
        .bind(template.to_string())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Creates child `idx` of a sweep: the run (with `parent_run_id`) and its
    /// `sweep_children` row, in one transaction; so after a crash a child either
    /// exists with its index or not at all.
    pub async fn create_sweep_child(
        &self,
        sweep: &RunId,
        idx: u32,
        run: &NewRun,
        parameters: &serde_json::Value,
    ) -> Result<RunEvent> {
        let mut tx = self.write.begin().await?;
        let event = insert_run(&mut tx, run, Some(sweep), RunStatus::Queued).await?;
        sqlx::query(
            "INSERT INTO sweep_children (sweep_id, idx, run_id, parameters) VALUES (?, ?, ?, ?)",
        )
        .bind(sweep.as_str())
        .bind(idx)
        .bind(run.run_id.as_str())
        .bind(parameters.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// The sweep whose parent run is `run_id`, if it is one.
    pub async fn sweep(&self, run_id: &RunId) -> Result<Option<SweepRow>> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT config, template, started_at FROM sweeps WHERE run_id = ?")
                .bind(run_id.as_str())
                .fetch_optional(&self.read)
                .await?;
        row.map(|(config, template, started_at)| {
            Ok(SweepRow {
                run_id: run_id.clone(),
                config,
                template: serde_json::from_str(&template)
                    .map_err(|e| StoreError::Corrupt(format!("sweep {run_id}: {e}")))?,
                started_at,
            })
        })
        .transpose()
    }

    /// The parent runs of sweeps that have not ended, oldest first.
    pub async fn live_sweeps(&self) -> Result<Vec<RunId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT s.run_id FROM sweeps s JOIN runs r ON r.run_id = s.run_id
             WHERE r.status NOT IN ('Completed', 'Failed', 'Canceled') ORDER BY r.rowid",
        )
        .fetch_all(&self.read)
        .await?;
        ids.iter()
            .map(|id| RunId::parse(id).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }

    /// A sweep's children, by index.
    pub async fn sweep_children(&self, sweep: &RunId) -> Result<Vec<SweepChildRow>> {
        type Row = (i64, String, String, i64, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT idx, run_id, parameters, evaluated, stopped FROM sweep_children
             WHERE sweep_id = ? ORDER BY idx",
        )
        .bind(sweep.as_str())
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(idx, run_id, parameters, evaluated, stopped)| {
                Ok(SweepChildRow {
                    idx: u32::try_from(idx).unwrap_or(0),
                    run_id: RunId::parse(&run_id)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    parameters: serde_json::from_str(&parameters)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    evaluated: u32::try_from(evaluated).unwrap_or(0),
                    stopped,
                })
            })
            .collect()
    }

    /// Records that the policy has looked at `evaluated` intervals of a child, and
    /// why it stopped it when it did (never overwriting an earlier reason).
    pub async fn set_sweep_child_evaluated(
        &self,
        sweep: &RunId,
        idx: u32,
        evaluated: u32,
        stopped: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE sweep_children SET evaluated = MAX(evaluated, ?), stopped = COALESCE(stopped, ?)
             WHERE sweep_id = ? AND idx = ?",
        )
        .bind(evaluated)
        .bind(stopped)
        .bind(sweep.as_str())
        .bind(idx)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The children of a run (any run with `parent_run_id` = `parent`), oldest
    /// first, with their tags and properties.
    pub async fn children(&self, parent: &RunId) -> Result<Vec<RunSummary>> {
        let rows = sqlx::query(&format!(
            "{RUN_COLUMNS} WHERE parent_run_id = ? ORDER BY rowid"
        ))
        .bind(parent.as_str())
        .fetch_all(&self.read)
        .await?;
        self.summaries(&rows).await
    }
}
