"""The fast path of a MySQL dump: a line holding one whole `INSERT INTO `t` [(cols)] VALUES (..),(..);`
split into rows and values by DuckDB's RE2, unescaped in SQL, never a Python loop per row.

mysqldump writes one extended INSERT a line (a megabyte of rows each), strings in single quotes
with backslash escapes, numbers bare, NULL as NULL. A line that is not exactly that shape (a
statement over several lines, two statements on a line, hex or bit literals, TRUE, double quotes,
`_binary`, adjacent strings) is left to sqlglot (see mysql_dump.py), which reads it as before.
"""

from __future__ import annotations

from idbx.quoting import sql_string

# One value: a string (any char but quote and backslash; a backslash escapes the next char; ''
# is a quote), NULL, or a decimal number written as sqlglot keeps it (its text, sign included).
# After a value only `,` or `)` may follow, so `''` can only be read as a doubled quote, as
# MySQL's lexer reads it.
_STRING = r"'(?:[^'\\]|\\(?s:.)|'')*'"
VALUE = rf"{_STRING}|(?i:NULL)|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_TUPLE = rf"\(\s*(?:{VALUE})(?:\s*,\s*(?:{VALUE}))*\s*\)"
_NAME = r"`[^`]+`"
# The statement up to its first tuple; the table and the column list are its two groups.
HEAD = rf"^\s*(?i:INSERT)\s+(?i:INTO)\s+({_NAME})\s*(?:\(\s*({_NAME}(?:\s*,\s*{_NAME})*)\s*\)\s*)?(?i:VALUES)\s*"
STATEMENT = rf"{HEAD}{_TUPLE}(?:\s*,\s*{_TUPLE})*\s*;\s*"
_ESCAPE_PIECE = r"\\(?s:.)|''|[^\\']+"


def classified_lines_sql(lines: str) -> str:
    """Each line of `lines` (line_number, raw, overlong, as read_lines gives them): a whole INSERT
    gets its table, its column list's text ('' when it names none) and its tuples' text; any other
    line keeps its bytes for sqlglot."""
    return f"""
        WITH decoded AS (
            SELECT line_number, raw, overlong, CASE WHEN overlong IS NULL THEN try(decode(raw)) END AS txt FROM {lines}
        ), matched AS (
            SELECT line_number, raw, overlong, txt,
                   txt IS NOT NULL AND regexp_full_match(txt, {sql_string(STATEMENT)}) AS fast
            FROM decoded
        ), headed AS (
            SELECT line_number, raw, overlong, fast, txt,
                   CASE WHEN fast THEN regexp_extract(txt, {sql_string(HEAD)}, ['name', 'columns']) END AS head,
                   CASE WHEN fast THEN length(regexp_extract(txt, {sql_string(HEAD)})) END AS head_length
            FROM matched
        )
        SELECT line_number, fast, overlong,
               CASE WHEN NOT fast THEN raw END AS raw,
               trim(head.name, '`') AS name,
               head.columns AS columns,
               CASE WHEN fast THEN rtrim(rtrim(txt[head_length + 1:]), ';') END AS tuples
        FROM headed
    """


def column_names(columns: str) -> list[str]:
    """The names of a column list's text as HEAD captured it (`` `a`, `b` ``)."""
    return [name.strip().strip("`") for name in columns.split(",")] if columns else []


def _unescaped_sql(body: str) -> str:
    """A string literal's body unescaped as sqlglot's MySQL tokenizer reads it: \\0 \\b \\n \\r
    \\t \\Z are control characters, \\% and \\_ keep their backslash (LIKE escapes), any other
    escaped char is itself, '' a quote. Without an escaped backslash or a doubled quote no two
    escapes touch and no replacement makes a backslash, so replacing one kind after another is
    exact (and twice as fast); otherwise the body is read piece by piece, so that no replacement
    sees another's output (no placeholder that could clash with the text)."""
    replaced = f"regexp_replace({body}, '\\\\([^%_0bnrtZ])', '\\1', 'g')"
    for char, escape in (("chr(0)", "0"), ("chr(8)", "b"), ("chr(10)", "n"), ("chr(13)", "r"), ("chr(9)", "t"), ("chr(26)", "Z")):
        replaced = f"replace({replaced}, '\\{escape}', {char})"
    piece = (
        "CASE WHEN p = '''''' THEN '''' WHEN p[1] <> '\\' THEN p "
        "ELSE CASE p[2] WHEN '0' THEN chr(0) WHEN 'b' THEN chr(8) WHEN 'n' THEN chr(10) WHEN 'r' THEN chr(13) "
        "WHEN 't' THEN chr(9) WHEN 'Z' THEN chr(26) WHEN '%' THEN p WHEN '_' THEN p ELSE p[2] END END"
    )
    return (
        f"CASE WHEN strpos({body}, '\\') = 0 AND strpos({body}, '''''') = 0 THEN {body} "
        f"WHEN strpos({body}, '\\\\') = 0 AND strpos({body}, '''''') = 0 THEN {replaced} "
        f"ELSE array_to_string(list_transform(regexp_extract_all({body}, {sql_string(_ESCAPE_PIECE)}), "
        f"lambda p: {piece}), '') END"
    )


def _value_sql(token: str) -> str:
    """A value's text as sqlglot gives it: the unescaped string, NULL, or the number as written."""
    return (
        f"CASE WHEN {token}[1] = '''' THEN {_unescaped_sql(f'{token}[2:-2]')} "
        f"WHEN upper({token}) = 'NULL' THEN NULL ELSE {token} END"
    )


def tuples_sql(fast_lines: str) -> str:
    """Every tuple of `fast_lines` (line_number, tuples): its line, its place in the line, its
    text and its values."""
    return f"""
        WITH split AS (
            SELECT line_number, regexp_extract_all(tuples, {sql_string(_TUPLE)}) AS tuples FROM {fast_lines}
        ), tuple AS (
            SELECT line_number, unnest(tuples) AS tuple, generate_subscripts(tuples, 1) AS ordinal FROM split
        )
        SELECT line_number, ordinal, tuple,
               list_transform(regexp_extract_all(tuple[2:-2], {sql_string(VALUE)}), lambda v: {_value_sql("v")}) AS cells
        FROM tuple
    """


def tsv_line_sql(cells: str) -> str:
    """A row's values as one line of the edX TSV dialect (see mysql_dump.tsv_line)."""
    escaped = "replace(v, '\\', '\\\\')"  # the backslash first: the others add backslashes
    for char, escape in (("chr(9)", "\\t"), ("chr(10)", "\\n"), ("chr(13)", "\\r"), ("chr(0)", "\\0")):
        escaped = f"replace({escaped}, {char}, '{escape}')"
    return f"array_to_string(list_transform({cells}, lambda v: coalesce({escaped}, 'NULL')), chr(9))"
