"""The body fields the models read, taken out of each event's JSON once, when it lands.

The bodies (`event`, and `context` for a problem's name) are about two thirds of the bronze
events' bytes, and the models read a few fields of them: every build used to read every body and
parse it again in each model that needed one (20 M events: 3 GB of JSON read four times a build).
Bronze keeps the bodies as they came and, beside them, two derived columns:

* `body_is_object`: whether the body is a JSON object (edX's pipelines skip events whose body is not);
* `event_fields`: the body's fields by their edX names, as text, for the events that have them
  (video player events, forum votes, server problem checks, enrollment events; NULL otherwise).

They are derived, never edited: whatever rewrites a landed events file (erasure, scrub, the upgrade
of files landed before these columns existed) computes them again from the body it writes
(`with_event_fields`), so that they never say what the body no longer does. Interpreting them
(which position a seek ends at, what a video id becomes) stays in the staging view
(idbx/sql/staging/stg__edx__events.sql), where edX's definitions are cited.
"""

from __future__ import annotations

from idbx.quoting import quote_ident

# Browser and mobile player events, legacy and edx.video.* names (the staging view maps them).
VIDEO_EVENT_TYPES = (
    "play_video",
    "pause_video",
    "seek_video",
    "stop_video",
    "edx.video.played",
    "edx.video.paused",
    "edx.video.stopped",
    "edx.video.position.changed",
    "edx.video.seeked",
)

# Field -> (family, JSON path, type). Text as the body gives it: the staging view casts.
_FIELDS = {
    "id": ("video", "$.id", "VARCHAR"),
    "module_id": ("video", "$.module_id", "VARCHAR"),
    "currentTime": ("video", "$.currentTime", "VARCHAR"),
    "current_time": ("video", "$.current_time", "VARCHAR"),
    "new_time": ("video", "$.new_time", "VARCHAR"),
    "old_time": ("video", "$.old_time", "VARCHAR"),
    "duration": ("video", "$.duration", "VARCHAR"),
    "vote_value": ("vote", "$.vote_value", "VARCHAR"),
    "undo_vote": ("vote", "$.undo_vote", "VARCHAR"),
    "target_username": ("vote", "$.target_username", "VARCHAR"),
    "problem_id": ("problem", "$.problem_id", "VARCHAR"),
    "success": ("problem", "$.success", "VARCHAR"),
    "attempts": ("problem", "$.attempts", "VARCHAR"),
    "grade": ("problem", "$.grade", "VARCHAR"),
    "max_grade": ("problem", "$.max_grade", "VARCHAR"),
    "submission": ("problem", "$.submission", "JSON"),
    "answers": ("problem", "$.answers", "JSON"),
    "correct_map": ("problem", "$.correct_map", "JSON"),
    "user_id": ("enrollment", "$.user_id", "VARCHAR"),
    "mode": ("enrollment", "$.mode", "VARCHAR"),
}
# Besides the paths: whether the body names a position at all (a pause without one is at 0 for
# edX, one whose position is null is not), and the problem's display name from the context.
_POSITION_GIVEN = "position_given"
_PROBLEM_NAME = "module_display_name"

# As DuckDB prints it (a keyword quoted), which is how the catalog compares a view's columns.
EVENT_FIELDS_TYPE = (
    "STRUCT("
    + ", ".join(f"{quote_ident(name) if name == 'mode' else name} {type_}" for name, (_, _, type_) in _FIELDS.items())
    + f", {_POSITION_GIVEN} BOOLEAN, {_PROBLEM_NAME} VARCHAR)"
)
DERIVED_EVENT_COLUMNS = {"body_is_object": "BOOLEAN", "event_fields": EVENT_FIELDS_TYPE}

_IS_VIDEO = "event_type IN (" + ", ".join(f"'{name}'" for name in VIDEO_EVENT_TYPES) + ")"
# The events each family of fields is read for: one parse of the body per family (a path list).
_FAMILIES = {
    "video": _IS_VIDEO,
    "vote": "event_type LIKE 'edx.forum.%.voted'",
    "problem": "event_type = 'problem_check' AND event_source = 'server'",
    "enrollment": "event_type LIKE 'edx.course.enrollment.%'",
}


def _family_fields(family: str) -> list[tuple[str, str, str]]:
    return [(name, path, type_) for name, (of, path, type_) in _FIELDS.items() if of == family]


def with_event_fields(relation: str) -> str:
    """SELECT over `relation` (rows with the bronze events' columns, the derived ones or not) with
    its columns in order and `body_is_object` and `event_fields` computed from its body, last."""
    parsed, fields = [], []
    for family, condition in _FAMILIES.items():
        found = _family_fields(family)
        # a family with JSON fields is extracted as JSON, its text fields unquoted from it
        as_json = any(type_ == "JSON" for _, _, type_ in found)
        paths = ", ".join(f"'{path}'" for _, path, _ in found)
        extract = "json_extract" if as_json else "json_extract_string"
        parsed.append(f"CASE WHEN {condition} THEN {extract}(event, [{paths}]) END AS __{family}")
        for index, (name, _, type_) in enumerate(found, start=1):
            value = f"__{family}[{index}]" + (" ->> '$'" if as_json and type_ != "JSON" else "")
            fields.append(f"{quote_ident(name)} := {value}")
    # the body parsed again only when neither position came out (rare): named but null, or absent
    fields.append(
        f"{_POSITION_GIVEN} := CASE WHEN __video[3] IS NOT NULL OR __video[4] IS NOT NULL THEN true "
        "WHEN __video IS NOT NULL THEN json_exists(event, '$.currentTime') OR json_exists(event, '$.current_time') END"
    )
    fields.append(
        f"{_PROBLEM_NAME} := CASE WHEN __problem IS NOT NULL THEN json_extract_string(context, '$.module.display_name') END"
    )
    any_family = " OR ".join(f"__{family} IS NOT NULL" for family in _FAMILIES)
    derived = ", ".join(f"'{name}'" for name in DERIVED_EVENT_COLUMNS)
    return f"""
        SELECT * EXCLUDE ({", ".join(f"__{family}" for family in _FAMILIES)}),
               -- a prefix, not a parse: a body that is an object is stored as its JSON text
               CAST(event AS VARCHAR) LIKE '{{%' AS body_is_object,
               CAST(CASE WHEN {any_family} THEN struct_pack({", ".join(fields)}) END AS {EVENT_FIELDS_TYPE}) AS event_fields
        FROM (SELECT COLUMNS(lambda column_name: column_name NOT IN ({derived})), {", ".join(parsed)}
              FROM {relation} AS landed) AS parsed"""


def derives_event_fields(schema: list[tuple[str, str]]) -> bool:
    """Whether a file of this schema (name, type) holds the derived columns: a rewrite of it must
    compute them again from the bodies it writes."""
    return set(DERIVED_EVENT_COLUMNS) <= {name for name, _ in schema}
