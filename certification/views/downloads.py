"""What every file download shares, kept apart from the pages so any view may import it."""

from urllib.parse import quote


def content_disposition(name, *, attachment, fallback=None):
    """RFC 6266 Content-Disposition with an ASCII fallback and the UTF-8 name in RFC 5987 ``filename*``.

    Browsers save under ``filename*`` (the Chinese name); `fallback` is the ASCII name for the few that cannot.
    """
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\%;' else "_" for ch in fallback or name)
    kind = "attachment" if attachment else "inline"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
