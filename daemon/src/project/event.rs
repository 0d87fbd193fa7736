//! Events, as `kubectl get events` prints them.

use k8s_openapi::api::core::v1::Event;

use super::{millis, parts};
use crate::catalog::ON_DEMAND_TIER;
use crate::descriptor::{Descriptor, Namespaced, col, wide};
use crate::row::{Cell, RowParts};
use crate::store::RowLimit;

/// LAST SEEN TYPE REASON OBJECT [SUBOBJECT SOURCE] MESSAGE [FIRST SEEN COUNT NAME].
///
/// FIRST SEEN is `firstTimestamp`, or `eventTime` for events written through
/// `events.k8s.io/v1`; LAST SEEN is `lastTimestamp`, else the first seen
/// time, and for a series its last observed time; COUNT is the series count,
/// the core count, or 1 for a singleton.
pub fn event(e: &Event) -> RowParts {
    let event_time = e.event_time.as_ref().map(|t| t.0.as_millisecond());
    let first = e.first_timestamp.as_ref().map(millis).or(event_time);
    let mut last = e.last_timestamp.as_ref().map(millis).or(first);
    let mut count = e.count.unwrap_or(0);
    if let Some(series) = &e.series {
        last = series
            .last_observed_time
            .as_ref()
            .map(|t| t.0.as_millisecond());
        count = series.count.unwrap_or(0);
    } else if count == 0 {
        count = 1;
    }
    let object = &e.involved_object;
    let kind = object.kind.as_deref().unwrap_or_default().to_lowercase();
    let target = match object.name.as_deref() {
        Some(name) if !name.is_empty() => format!("{kind}/{name}"),
        _ => kind,
    };
    let source = e.source.as_ref();
    let component = source
        .and_then(|s| s.component.clone())
        .filter(|c| !c.is_empty())
        .or_else(|| e.reporting_component.clone())
        .unwrap_or_default();
    let instance = source
        .and_then(|s| s.host.clone())
        .filter(|h| !h.is_empty())
        .or_else(|| e.reporting_instance.clone())
        .unwrap_or_default();
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    parts(
        &e.metadata,
        vec![
            Cell::age(last),
            Cell::text(e.type_.clone().unwrap_or_default()),
            Cell::text(e.reason.clone().unwrap_or_default()),
            Cell::text(target),
            Cell::text(object.field_path.clone().unwrap_or_default()),
            Cell::text(source),
            Cell::text(e.message.as_deref().unwrap_or_default().trim()),
            Cell::age(first),
            Cell::text(count.to_string()),
            Cell::text(e.metadata.name.clone().unwrap_or_default()),
        ],
    )
}

/// Events: the wide columns sit between the default ones, as kubectl prints them.
pub static EVENTS: Descriptor = Descriptor {
    plural: "events",
    singular: "event",
    kind: "Event",
    group: "",
    version: "v1",
    namespaced: true,
    short_names: &["ev"],
    tier: ON_DEMAND_TIER,
    name_first: false,
    columns: &[
        col("LAST SEEN"),
        col("TYPE"),
        col("REASON"),
        col("OBJECT"),
        wide("SUBOBJECT"),
        wide("SOURCE"),
        col("MESSAGE"),
        wide("FIRST SEEN"),
        wide("COUNT"),
        wide("NAME"),
    ],
    row_limit: Some(RowLimit::EVENTS),
    cache: &Namespaced::<Event>::new(event),
};
