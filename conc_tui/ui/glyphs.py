"""The block glyphs the panels draw with: heights for a level, eighths for a bar."""

#: One character whose height is a level, lowest to highest.
BLOCKS = "▁▂▃▄▅▆▇█"
#: The partial last character of a bar, by eighths (index 0: nothing).
EIGHTHS = " ▏▎▍▌▋▊▉"


def fill(fraction: float, width: int) -> str:
    """The filled part of a ``width``-character bar at ``fraction`` (0..1), by eighths."""
    return fill_eighths(int(round(max(0.0, min(1.0, fraction)) * width * 8)), width)


def fill_eighths(eighths: int, width: int) -> str:
    """The filled part of a ``width``-character bar filled to ``eighths`` eighths."""
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part and full < width else "")
