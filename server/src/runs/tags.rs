//! Patching a run's tags.

use std::collections::BTreeMap;

use runboard_shared::api::TagsPatch;
use runboard_shared::event::EventBody;
use runboard_shared::run::RunId;

use super::RunError;
use crate::events::Events;
use crate::store::Store;

/// Checks every tag of a patch: [`RunError::Invalid`] `invalid_tags` naming the
/// first bad one.
pub fn check(patch: &TagsPatch) -> Result<(), RunError> {
    let problem = patch
        .set
        .iter()
        .find_map(|(k, v)| crate::limits::tag_problem("tag", k, v))
        .or_else(|| {
            patch
                .remove
                .iter()
                .find_map(|k| crate::limits::tag_problem("tag", k, ""))
        });
    match problem {
        Some(message) => Err(RunError::Invalid {
            code: "invalid_tags",
            message,
        }),
        None => Ok(()),
    }
}

/// Applies a checked patch to an existing run and publishes it; the run's tags
/// after it.
pub async fn patch(
    store: &Store,
    events: &Events,
    id: &RunId,
    patch: &TagsPatch,
) -> Result<BTreeMap<String, String>, RunError> {
    let event = events.commit(id, store.patch_tags(id, patch)).await?;
    Ok(match event.body {
        EventBody::Tags { tags } => tags,
        _ => BTreeMap::new(),
    })
}
