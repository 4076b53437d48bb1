//! The model registry's rows (`models`, see `migrations/0004_models.sql`).

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Result, Store, StoreError, now};

/// A model version as the store keeps it (its files are on disk, not here).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    /// The model's name.
    pub name: String,
    /// Its version.
    pub version: u32,
    /// The registered file or folder's name.
    pub path: String,
    /// The run it came from.
    pub run_id: Option<String>,
    /// Free text.
    pub description: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Properties.
    pub properties: BTreeMap<String, String>,
    /// When it was registered.
    pub created_at: String,
}

/// What a new version is registered with.
#[derive(Debug, Clone)]
pub struct NewModel {
    /// The model's name (already checked).
    pub name: String,
    /// The registered file or folder's name.
    pub path: String,
    /// The run it came from.
    pub run_id: Option<String>,
    /// Free text.
    pub description: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Properties.
    pub properties: BTreeMap<String, String>,
}

const COLUMNS: &str =
    "SELECT name, version, path, run_id, description, tags, properties, created_at FROM models";

fn row(r: &sqlx::sqlite::SqliteRow) -> Result<ModelRow> {
    let map = |column: &str| -> Result<BTreeMap<String, String>> {
        let text: String = r.try_get(column)?;
        serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("models.{column}: {e}")))
    };
    let version: i64 = r.try_get("version")?;
    Ok(ModelRow {
        name: r.try_get("name")?,
        version: u32::try_from(version).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        path: r.try_get("path")?,
        run_id: r.try_get("run_id")?,
        description: r.try_get("description")?,
        tags: map("tags")?,
        properties: map("properties")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Adds the next version of a model (1 for a new name) and returns it. The one
    /// writer connection makes the numbering gap-free and unique.
    pub async fn add_model_version(&self, model: &NewModel) -> Result<ModelRow> {
        let json = |m: &BTreeMap<String, String>| {
            serde_json::to_string(m).map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        let created_at = now();
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO models (name, version, path, run_id, description, tags, properties, created_at)
             VALUES (?, (SELECT COALESCE(MAX(version), 0) + 1 FROM models WHERE name = ?), ?, ?, ?, ?, ?, ?)
             RETURNING version",
        )
        .bind(&model.name)
        .bind(&model.name)
        .bind(&model.path)
        .bind(&model.run_id)
        .bind(&model.description)
        .bind(json(&model.tags)?)
        .bind(json(&model.properties)?)
        .bind(&created_at)
        .fetch_one(&self.write)
        .await?;
        Ok(ModelRow {
            name: model.name.clone(),
            version: u32::try_from(version).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            path: model.path.clone(),
            run_id: model.run_id.clone(),
            description: model.description.clone(),
            tags: model.tags.clone(),
            properties: model.properties.clone(),
            created_at,
        })
    }

    /// Removes a version whose files could not be put in place.
    pub async fn remove_model_version(&self, name: &str, version: u32) -> Result<()> {
        sqlx::query("DELETE FROM models WHERE name = ? AND version = ?")
            .bind(name)
            .bind(i64::from(version))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// One version of a model.
    pub async fn model_version(&self, name: &str, version: u32) -> Result<Option<ModelRow>> {
        sqlx::query(&format!("{COLUMNS} WHERE name = ? AND version = ?"))
            .bind(name)
            .bind(i64::from(version))
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(row)
            .transpose()
    }

    /// Every version of a model, newest first.
    pub async fn model_versions(&self, name: &str) -> Result<Vec<ModelRow>> {
        sqlx::query(&format!("{COLUMNS} WHERE name = ? ORDER BY version DESC"))
            .bind(name)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(row)
            .collect()
    }

    /// The latest version of every model, by name.
    pub async fn latest_models(&self) -> Result<Vec<ModelRow>> {
        sqlx::query(&format!(
            "{COLUMNS} WHERE (name, version) IN (SELECT name, MAX(version) FROM models GROUP BY name)
             ORDER BY name"
        ))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(row)
        .collect()
    }

    /// The versions registered from a run, newest first.
    pub async fn run_models(&self, run_id: &str) -> Result<Vec<ModelRow>> {
        sqlx::query(&format!(
            "{COLUMNS} WHERE run_id = ? ORDER BY created_at DESC, name"
        ))
        .bind(run_id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(row)
        .collect()
    }
}
