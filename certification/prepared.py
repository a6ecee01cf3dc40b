"""Reads that every request repeats, with their SQL written by the ORM once per process.

Building and compiling a query costs Django a thousand to four thousand Python calls; the database answers a read by
index in a fraction of that (bench/transition.py: the object-permission read cost 2.8 ms to build and 0.02 ms to
run). For the few reads that run on every request (the permission checks), `PreparedRead` keeps the statement the
ORM compiled and runs it with the values of each call. The ORM still writes the SQL, for each database's dialect.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import connections


class PreparedRead:
    """A `values_list` read compiled once per database and run with new values.

    `build(**values)` returns the queryset. It is compiled once with `markers` (a stand-in of the right type for
    each argument, unlike any other value of the query) and every marker must come back as a parameter of the
    statement, never written into its text: otherwise the read is refused at its first use rather than run with a
    stale value. Rows are the database's tuples as they are, without the ORM's converters: only for columns that
    need none (text, integers). A date marker the backend passes as text (SQLite) gets each value as its text.
    """

    def __init__(self, build, **markers):
        self._build = build
        self._markers = markers
        self._compiled = None

    def _compile(self):
        queryset = self._build(**self._markers)
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
        slots = [(*self._marker_of(param), param) for param in params]
        unused = set(self._markers) - {name for name, _as_text, _param in slots}
        if unused:
            raise ImproperlyConfigured(f"{sorted(unused)} not passed as parameters of: {sql}")
        return queryset.db, sql, slots

    def _marker_of(self, param):
        """(name, as_text) of the marker `param` is; as_text when the backend passes it as its text (SQLite's
        dates: `str(date)` is the ISO form Django's adapter writes); (None, False) for a value of the query."""
        for name, marker in self._markers.items():
            if type(param) is type(marker) and param == marker:
                return name, False
            if isinstance(param, str) and not isinstance(marker, str) and param == str(marker):
                return name, True
        return None, False

    def __call__(self, **values):
        """The rows (tuples) for `values`, one for each argument `build` takes."""
        if self._compiled is None:
            self._compiled = self._compile()
        db, sql, slots = self._compiled
        params = [
            param if name is None else str(values[name]) if as_text else values[name] for name, as_text, param in slots
        ]
        with connections[db].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
