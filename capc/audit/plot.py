"""A picture of an audit record: the table seen from above, and from the side.

Drawn: the table, the workspace (green, dashed), every keep-out zone (orange, hatched), the
objects where the counterexample puts them (their own colours; blocks as squares, bowls as
rings), and the offending target or segment in pure red, which nothing else in the picture
uses. Under it an elevation (x against z) shows heights, which a top-down view cannot.

The world→pixel transform is fixed by hand (no autoscaling, no tight bounding box) and
returned as a `PlotFrame`, so a test can look for the red target exactly where the
counterexample puts it. Both panels share one scale, so distances are true.

matplotlib (Agg) is imported inside `render`: `capc check` never pays for it.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from typing import Any

from capc.compiler.profiles import DEFAULT_PROFILE, get_profile
from capc.compiler.registry import RobotProfile

OFFENDING_RED = "#ff0000"        # reserved for the offending target/segment
WORKSPACE_GREEN = "#1f8f3a"
KEEP_OUT_ORANGE = "#e08a1e"
TABLE_FILL = "#efe7d8"

DPI = 100
WIDTH_PX = 720
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM, GAP = 70, 30, 76, 50, 56
PAD_M = 0.05                     # world margin around everything drawn, metres
MAX_VIEW_M = 1.5                 # never zoom out beyond this (a wild counterexample stays legible)
MIN_SIDE_PX = 90


@dataclass(frozen=True)
class PlotFrame:
    """Where a world point lands in the PNG (pixel columns from the left, rows from the top)."""

    width_px: int
    height_px: int
    scale: float                 # pixels per metre, both panels, both axes
    x0: float                    # world x at the left edge of both panels
    y0: float                    # world y at the bottom edge of the top-down panel
    top_left_px: tuple[float, float]     # (col, row) of the top-down panel's top-left corner
    top_height_px: float
    side_z0: float               # world z at the bottom edge of the side panel
    side_top_px: float           # row of the side panel's top edge
    side_height_px: float

    def to_pixel(self, x: float, y: float) -> tuple[float, float]:
        """Top-down panel: world (x, y) → (col, row)."""
        col = self.top_left_px[0] + (x - self.x0) * self.scale
        row = self.top_left_px[1] + self.top_height_px - (y - self.y0) * self.scale
        return col, row

    def side_to_pixel(self, x: float, z: float) -> tuple[float, float]:
        """Side panel: world (x, z) → (col, row)."""
        col = self.top_left_px[0] + (x - self.x0) * self.scale
        row = self.side_top_px + self.side_height_px - (z - self.side_z0) * self.scale
        return col, row


@dataclass(frozen=True)
class Picture:
    png: bytes
    frame: PlotFrame
    obligation: dict | None      # the obligation drawn (None: no counterexample, scene only)
    off_view: bool               # the offending point lies outside the picture (drawn at its edge)


def offending_obligation(record: dict, index: int | None = None, attempt: int | None = None) -> dict | None:
    """The obligation to draw: the given one, else the first violated one with a
    counterexample, else the first unknown one with a counterexample. With `attempt` (0-based):
    the first counterexample among that attempt's diagnostics (why a repaired attempt failed)."""
    if attempt is not None:
        attempts = record.get("attempts") or []
        chosen = attempts[attempt] if 0 <= attempt < len(attempts) else {}
        for diag in chosen.get("diagnostics") or []:
            if isinstance(diag, dict) and diag.get("counterexample"):
                return {"verdict": "violated", "counterexample": diag["counterexample"],
                        "message": diag.get("message"), "property": diag.get("code"),
                        "attempt": attempt}
        return None
    obligations = record.get("obligations") or []
    if index is not None:
        return obligations[index] if 0 <= index < len(obligations) else None
    for wanted in ("violated", "unknown"):
        for ob in obligations:
            if ob.get("verdict") == wanted and ob.get("counterexample"):
                return ob
    for diag in record.get("diagnostics") or []:   # a check that failed before obligations
        if isinstance(diag, dict) and diag.get("counterexample"):
            return {"verdict": "violated", "counterexample": diag["counterexample"],
                    "message": diag.get("message"), "property": diag.get("code")}
    # A run the monitor stopped: draw where it stopped, with the objects where they were then.
    run = record.get("run") if isinstance(record.get("run"), dict) else {}
    for event in record.get("monitor_events") or run.get("monitor_events") or []:
        if isinstance(event, dict) and event.get("point") is not None:
            objects = run.get("final_positions") if isinstance(run.get("final_positions"), dict) else {}
            return {"verdict": "stopped", "primitive": "monitor", "property": event.get("limit"),
                    "message": event.get("message"),
                    "counterexample": {"target": event["point"], "objects": objects or {}}}
    return None


def _profile(record: dict) -> RobotProfile:
    """The profile the record was checked for (the default one for a record without, or of a
    profile this process does not know): its cell and objects are what is drawn."""
    try:
        return get_profile(record.get("profile") or DEFAULT_PROFILE)
    except KeyError:
        return get_profile()


def _vec(value: Any, n: int, cell: Any) -> tuple[float, ...] | None:
    try:
        values = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if len(values) < 2:
        return None
    if len(values) == 2 and n == 3:
        values = values + (cell.travel_height,)
    return values[:n]


def _objects(record: dict, cex: dict, cell: Any) -> dict[str, tuple[float, float, float]]:
    """Scene objects, moved to where the counterexample puts them."""
    objects: dict[str, tuple[float, float, float]] = {}
    for item in ((record.get("scene") or {}).get("objects") or []):
        pos = _vec(item.get("position"), 3, cell) if isinstance(item, dict) else None
        if pos is not None:
            objects[str(item.get("name"))] = pos if len(pos) == 3 else pos + (0.0,)
    for name, pos in (cex.get("objects") or {}).items():
        vec = _vec(pos, 3, cell)
        if vec is not None:
            objects[str(name)] = vec
    return objects


def _regions(record: dict, cell: Any):
    """Workspace box and keep-out zones from the record's spec (defaults if it has none)."""
    spec = record.get("spec") or {}
    ws = spec.get("workspace") or cell.table_bounds.to_json()
    zones = []
    for zone in spec.get("keep_out") or []:
        if "box" in zone:
            zones.append(("box", zone.get("name", "keep-out"), zone["box"]))
        elif "cylinder" in zone:
            zones.append(("cylinder", zone.get("name", "keep-out"), zone["cylinder"]))
    return ws, zones


def _layout(points_xy, points_z, table: Any) -> PlotFrame:
    xs = [p[0] for p in points_xy]
    ys = [p[1] for p in points_xy]
    zs = list(points_z)
    cx, cy = (table.x.low + table.x.high) / 2, (table.y.low + table.y.high) / 2
    half = MAX_VIEW_M / 2
    x0 = max(min(xs) - PAD_M, cx - half)
    x1 = min(max(xs) + PAD_M, cx + half)
    y0 = max(min(ys) - PAD_M, cy - half)
    y1 = min(max(ys) + PAD_M, cy + half)
    z0 = max(min(zs) - PAD_M, -half)
    z1 = min(max(zs) + PAD_M, half)
    scale = (WIDTH_PX - MARGIN_LEFT - MARGIN_RIGHT) / (x1 - x0)
    top_h = (y1 - y0) * scale
    side_h = max((z1 - z0) * scale, MIN_SIDE_PX)
    z0 = z1 - side_h / scale    # keep one scale: widen the z range to the panel height
    height = MARGIN_TOP + top_h + GAP + side_h + MARGIN_BOTTOM
    return PlotFrame(width_px=WIDTH_PX, height_px=int(round(height)), scale=scale, x0=x0, y0=y0,
                     top_left_px=(MARGIN_LEFT, MARGIN_TOP), top_height_px=top_h, side_z0=z0,
                     side_top_px=MARGIN_TOP + top_h + GAP, side_height_px=side_h)


def render(record: dict, obligation_index: int | None = None, attempt: int | None = None) -> Picture:
    """Draw `record` (a dict as `AuditStore.get` returns it) and return the PNG and its frame;
    `obligation_index` or `attempt` (0-based) choose what to draw, see `offending_obligation`."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, Rectangle

    ob = offending_obligation(record, obligation_index, attempt)
    cex = (ob or {}).get("counterexample") or {}
    profile = _profile(record)
    cell = profile.cell
    ws, zones = _regions(record, cell)
    objects = _objects(record, cex, cell)
    target = _vec(cex.get("target"), 3, cell) if cex.get("target") is not None else None
    segment = None
    if cex.get("segment") and len(cex["segment"]) == 2:
        a, b = (_vec(p, 3, cell) for p in cex["segment"])
        segment = (a, b) if a is not None and b is not None else None

    table = cell.table_bounds
    pts_xy = [(table.x.low, table.y.low), (table.x.high, table.y.high),
              (ws["x"][0], ws["y"][0]), (ws["x"][1], ws["y"][1])]
    pts_z = [table.z.low, table.z.high, ws["z"][0], ws["z"][1]]
    pts_xy += [p[:2] for p in objects.values()]
    pts_z += [p[2] for p in objects.values()]
    offending = [p for p in ([target] + list(segment or ())) if p is not None]
    pts_xy += [p[:2] for p in offending]
    pts_z += [p[2] for p in offending]
    frame = _layout(pts_xy, pts_z, table)

    fig = Figure(figsize=(frame.width_px / DPI, frame.height_px / DPI), dpi=DPI)
    fig.patch.set_facecolor("white")
    W, H = frame.width_px, frame.height_px
    panel_w = WIDTH_PX - MARGIN_LEFT - MARGIN_RIGHT
    top = fig.add_axes([MARGIN_LEFT / W, (H - MARGIN_TOP - frame.top_height_px) / H,
                        panel_w / W, frame.top_height_px / H])
    side = fig.add_axes([MARGIN_LEFT / W, (H - frame.side_top_px - frame.side_height_px) / H,
                         panel_w / W, frame.side_height_px / H])
    x1 = frame.x0 + panel_w / frame.scale
    top.set_xlim(frame.x0, x1)
    top.set_ylim(frame.y0, frame.y0 + frame.top_height_px / frame.scale)
    side.set_xlim(frame.x0, x1)
    side.set_ylim(frame.side_z0, frame.side_z0 + frame.side_height_px / frame.scale)
    for ax in (top, side):
        ax.set_autoscale_on(False)
        ax.tick_params(labelsize=8)
        ax.set_facecolor("#fafafa")
    top.set_ylabel("y (m)", fontsize=9)
    side.set_xlabel("x (m)", fontsize=9)
    side.set_ylabel("z (m)", fontsize=9)

    # Table and workspace.
    top.add_patch(Rectangle((table.x.low, table.y.low), table.x.high - table.x.low,
                            table.y.high - table.y.low, facecolor=TABLE_FILL, edgecolor="#9a8f7c",
                            lw=1, zorder=1))
    side.axhline(0.0, color="#9a8f7c", lw=2, zorder=1)
    top.add_patch(Rectangle((ws["x"][0], ws["y"][0]), ws["x"][1] - ws["x"][0], ws["y"][1] - ws["y"][0],
                            fill=False, edgecolor=WORKSPACE_GREEN, lw=2, ls="--", zorder=3,
                            label="workspace"))
    side.add_patch(Rectangle((ws["x"][0], ws["z"][0]), ws["x"][1] - ws["x"][0], ws["z"][1] - ws["z"][0],
                             fill=False, edgecolor=WORKSPACE_GREEN, lw=2, ls="--", zorder=3))

    # Keep-out zones.
    for i, (shape, name, geo) in enumerate(zones):
        style = dict(facecolor=KEEP_OUT_ORANGE, alpha=0.35, hatch="//", edgecolor=KEEP_OUT_ORANGE,
                     lw=1.5, zorder=2, label="keep-out" if i == 0 else None)
        if shape == "box":
            top.add_patch(Rectangle((geo["x"][0], geo["y"][0]), geo["x"][1] - geo["x"][0],
                                    geo["y"][1] - geo["y"][0], **style))
            side.add_patch(Rectangle((geo["x"][0], geo["z"][0]), geo["x"][1] - geo["x"][0],
                                     geo["z"][1] - geo["z"][0], **{**style, "label": None}))
            label_at = (geo["x"][0], geo["y"][1])
        else:
            (cx, cy), r = geo["center"], geo["radius"]
            top.add_patch(Circle((cx, cy), r, **style))
            side.add_patch(Rectangle((cx - r, geo["z"][0]), 2 * r, geo["z"][1] - geo["z"][0],
                                     **{**style, "label": None}))
            label_at = (cx - r, cy + r)
        top.annotate(name, label_at, fontsize=7, color="#7a4a0a", va="bottom", zorder=6)

    # Objects.
    for name, (x, y, z) in objects.items():
        color = profile.rgba(name)
        bowl = profile.object_kind(name) == "bowl"
        if bowl:
            top.add_patch(Circle((x, y), cell.bowl_radius, facecolor="none", edgecolor=color,
                                 lw=4, zorder=4))
            side.add_patch(Rectangle((x - cell.bowl_radius, z), 2 * cell.bowl_radius,
                                     cell.bowl_height, facecolor="none", edgecolor=color, lw=2, zorder=4))
        else:
            s = cell.block_size
            top.add_patch(Rectangle((x - s / 2, y - s / 2), s, s, facecolor=color,
                                    edgecolor="#333333", lw=0.8, zorder=4))
            side.add_patch(Rectangle((x - s / 2, z - s / 2), s, s, facecolor=color,
                                     edgecolor="#333333", lw=0.8, zorder=4))
        top.annotate(name, (x, y - cell.bowl_radius if bowl else y - 0.03),
                     fontsize=7, ha="center", va="top", color="#333333", zorder=6)

    # The offending segment and target, in the one colour nothing else uses.
    off_view = False
    xlim, ylim, zlim = top.get_xlim(), top.get_ylim(), side.get_ylim()

    def clamp(p):
        nonlocal off_view
        q = (min(max(p[0], xlim[0]), xlim[1]), min(max(p[1], ylim[0]), ylim[1]),
             min(max(p[2], zlim[0]), zlim[1]))
        off_view |= q != tuple(p)
        return q

    if segment is not None:
        a, b = clamp(segment[0]), clamp(segment[1])
        for ax, (i, j) in ((top, (0, 1)), (side, (0, 2))):
            ax.annotate("", xy=(b[i], b[j]), xytext=(a[i], a[j]), zorder=7,
                        arrowprops=dict(arrowstyle="-|>", color=OFFENDING_RED, lw=3, mutation_scale=18))
            ax.plot([a[i]], [a[j]], "o", color=OFFENDING_RED, ms=6, zorder=7)
        if target is None:
            target = segment[1]
    if target is not None:
        t = clamp(target)
        for ax, (i, j) in ((top, (0, 1)), (side, (0, 2))):
            ax.plot([t[i]], [t[j]], marker="X", color=OFFENDING_RED, ms=16, mec=OFFENDING_RED,
                    ls="none", zorder=8, label="offending target" if ax is top else None)
        where = "(" + ", ".join(f"{v:.3f}" for v in target) + ")"
        right_half = t[0] > (xlim[0] + xlim[1]) / 2   # label towards the middle, never cut off
        top.annotate(f"target {where}" + (" (off the picture)" if off_view else ""),
                     (t[0], t[1]), xytext=(-12 if right_half else 12, 12), textcoords="offset points",
                     ha="right" if right_half else "left", fontsize=8,
                     color=OFFENDING_RED, fontweight="bold", zorder=9)

    verdict = record.get("verdict") or "?"
    if attempt is not None:
        attempts = record.get("attempts") or []
        state = attempts[attempt].get("verdict") if 0 <= attempt < len(attempts) else None
        verdict = f"attempt {attempt + 1} {state or '?'}"
    title = f"capc audit #{record.get('id', '?')}: {verdict}"
    what = " ".join(str(x) for x in ((ob or {}).get("primitive"), (ob or {}).get("property")) if x)
    if what:
        title += f", {what}"
    fig.text(MARGIN_LEFT / W, 1 - 18 / H, title, fontsize=12, fontweight="bold", va="top")
    note = (ob or {}).get("message") or cex.get("limit") or "no counterexample: the scene as given"
    lines = textwrap.wrap(str(note), 88)
    if len(lines) > 2:
        lines = lines[:2]
        lines[1] = lines[1][:86] + "…"
    fig.text(MARGIN_LEFT / W, 1 - 40 / H, "\n".join(lines), fontsize=9, va="top", color="#444444")
    top.legend(loc="lower right", fontsize=7, framealpha=0.85)
    side.set_title("side view (x, z)", fontsize=8, loc="left")

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return Picture(buffer.getvalue(), frame, ob, off_view)


def write_png(record: dict, path: str, obligation_index: int | None = None,
              attempt: int | None = None) -> Picture:
    picture = render(record, obligation_index, attempt)
    with open(path, "wb") as fh:
        fh.write(picture.png)
    return picture
