"""The problems of bench/codegen.py: function-generation problems in the style of Code as
Policies' RoboCodeGen benchmark (a signature, a reference solution, generated test inputs),
written for capc: geometry on points, lines, polygons and object positions.

Each problem: `sig` (what a model would be asked to define), `src` (our reference solution,
in the policy language), `args` (how to draw each argument; see bench/codegen.py `draw`),
and `cmp` ("close": numbers and arrays within 1e-9, "equal": ==, "shape": same area and
symmetric difference of area ~0).
"""

PROBLEMS = [
    # --- points as numpy arrays --------------------------------------------------------------
    {"sig": "idx = top_most_idx(pts)", "args": ["pts(8)"], "cmp": "equal",
     "src": "def top_most_idx(pts):\n    return int(np.argmax(pts[:, 1]))\n"},
    {"sig": "idx = left_most_idx(pts)", "args": ["pts(8)"], "cmp": "equal",
     "src": "def left_most_idx(pts):\n    return int(np.argsort(pts[:, 0])[0])\n"},
    {"sig": "idx = nearest_idx(pts, pt)", "args": ["pts(8)", "pt"], "cmp": "equal",
     "src": "def nearest_idx(pts, pt):\n    return int(np.argmin(np.linalg.norm(pts - pt, axis=1)))\n"},
    {"sig": "idx = farthest_idx(pts, pt)", "args": ["pts(8)", "pt"], "cmp": "equal",
     "src": "def farthest_idx(pts, pt):\n    d = np.linalg.norm(pts - pt, axis=1)\n    return int(np.argsort(d)[-1])\n"},
    {"sig": "c = centre_of(pts)", "args": ["pts(6)"], "cmp": "close",
     "src": "def centre_of(pts):\n    return np.mean(pts, axis=0)\n"},
    {"sig": "box = xyxy_of(pts)", "args": ["pts(6)"], "cmp": "close",
     "src": "def xyxy_of(pts):\n    lo = np.min(pts, axis=0)\n    hi = np.max(pts, axis=0)\n"
            "    return np.array([lo[0], lo[1], hi[0], hi[1]])\n"},
    {"sig": "a = xyxy_area(box)", "args": ["xyxy"], "cmp": "close",
     "src": "def xyxy_area(box):\n    return (box[2] - box[0]) * (box[3] - box[1])\n"},
    {"sig": "inside = xyxy_holds(box, pt)", "args": ["xyxy", "pt"], "cmp": "equal",
     "src": "def xyxy_holds(box, pt):\n    return bool(box[0] <= pt[0] <= box[2] and box[1] <= pt[1] <= box[3])\n"},
    {"sig": "pts = evenly_between(a, b, n)", "args": ["pt", "pt", "int(2, 7)"], "cmp": "close",
     "src": "def evenly_between(a, b, n):\n    return np.linspace(a, b, n)\n"},
    {"sig": "pts = backwards(pts)", "args": ["pts(5)"], "cmp": "close",
     "src": "def backwards(pts):\n    return pts[::-1]\n"},
    {"sig": "v = unit(v)", "args": ["pt"], "cmp": "close",
     "src": "def unit(v):\n    return v / np.linalg.norm(v)\n"},
    {"sig": "pts = shifted(pts, delta)", "args": ["pts(5)", "pt"], "cmp": "close",
     "src": "def shifted(pts, delta):\n    return pts + delta\n"},
    {"sig": "pts = turned_about_centre(pts, deg)", "args": ["pts(5)", "float(-180, 180)"], "cmp": "close",
     "src": "def turned_about_centre(pts, deg):\n    a = np.deg2rad(deg)\n    c = np.mean(pts, axis=0)\n"
            "    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])\n"
            "    return (pts - c) @ rot.T + c\n"},
    {"sig": "pts = stretched(pts, sx, sy)", "args": ["pts(5)", "float(0.5, 2)", "float(0.5, 2)"], "cmp": "close",
     "src": "def stretched(pts, sx, sy):\n    c = np.mean(pts, axis=0)\n    out = pts - c\n"
            "    out[:, 0] = out[:, 0] * sx\n    out[:, 1] = out[:, 1] * sy\n    return out + c\n"},
    {"sig": "cx, cy = fit_path(ts, pts, deg)", "args": ["times(8)", "pts(8)", "int(1, 3)"], "cmp": "close",
     "src": "def fit_path(ts, pts, deg):\n    return np.polyfit(ts, pts[:, 0], deg), np.polyfit(ts, pts[:, 1], deg)\n"},
    {"sig": "pts = path_at(cx, cy, ts)", "args": ["coeffs(3)", "coeffs(3)", "times(6)"], "cmp": "close",
     "src": "def path_at(cx, cy, ts):\n    return np.stack([np.polyval(cx, ts), np.polyval(cy, ts)], axis=1)\n"},
    # --- control -----------------------------------------------------------------------------
    {"sig": "u = pd(x, goal, xdot, kp, kd)", "args": ["pt", "pt", "pt", "float(0, 2)", "float(0, 1)"],
     "cmp": "close", "src": "def pd(x, goal, xdot, kp, kd):\n    return kp * (goal - x) - kd * xdot\n"},
    {"sig": "ok = settles(a)", "args": ["matrix(3)"], "cmp": "equal",
     "src": "def settles(a):\n    return bool(np.all(np.abs(np.linalg.eigvals(a)) < 1))\n"},
    {"sig": "ok = settles_with_gain(a, b, k)", "args": ["matrix(3)", "matrix(3)", "matrix(3)"], "cmp": "equal",
     "src": "def settles_with_gain(a, b, k):\n    vals, vecs = np.linalg.eig(a - b @ k)\n"
            "    return bool(np.all(np.abs(vals) < 1))\n"},
    # --- shapely -------------------------------------------------------------------------------
    {"sig": "pt = closest_on_line(line, pt)", "args": ["line(2)", "pt"], "cmp": "close",
     "src": "def closest_on_line(line, pt):\n    return np.array(line.interpolate(line.project(Point(pt))).coords[0])\n"},
    {"sig": "d = across(line)", "args": ["line(2)"], "cmp": "close",
     "src": "def across(line):\n    a = np.array(line.coords[0])\n    b = np.array(line.coords[1])\n"
            "    d = (b - a) / np.linalg.norm(b - a)\n    return np.array([d[1], -d[0]])\n"},
    {"sig": "d = across_towards(line, pt)", "args": ["line(2)", "pt"], "cmp": "close",
     "src": "def across_towards(line, pt):\n    a = np.array(line.coords[0])\n    b = np.array(line.coords[1])\n"
            "    d = (b - a) / np.linalg.norm(b - a)\n    n = np.array([-d[1], d[0]])\n"
            "    return np.sign(np.dot(np.array(pt) - a, n)) * n\n"},
    {"sig": "pts = corners(poly)", "args": ["poly"], "cmp": "close",
     "src": "def corners(poly):\n    return np.array(poly.exterior.coords)\n"},
    {"sig": "pts = along_outline(outline, n)", "args": ["ring", "int(2, 9)"], "cmp": "close",
     "src": "def along_outline(outline, n):\n"
            "    return [outline.interpolate(i / (n - 1), normalized=True).coords[0] for i in range(n)]\n"},
    {"sig": "pts = along_line(line, n)", "args": ["line(3)", "int(2, 9)"], "cmp": "close",
     "src": "def along_line(line, n):\n"
            "    return np.array([line.interpolate(i / (n - 1), normalized=True).coords[0] for i in range(n)])\n"},
    {"sig": "line = segment(a, b)", "args": ["pt", "pt"], "cmp": "equal",
     "src": "def segment(a, b):\n    return LineString([a, b])\n"},
    {"sig": "disc = disc_around(r, c)", "args": ["float(0.01, 0.2)", "pt"], "cmp": "shape",
     "src": "def disc_around(r, c):\n    return Point(c).buffer(r)\n"},
    {"sig": "rect = rect_around(w, h, c)", "args": ["float(0.01, 0.3)", "float(0.01, 0.3)", "pt"], "cmp": "shape",
     "src": "def rect_around(w, h, c):\n    return box(c[0] - w / 2, c[1] - h / 2, c[0] + w / 2, c[1] + h / 2)\n"},
    {"sig": "oval = oval_around(c, rx, ry)", "args": ["pt", "float(0.01, 0.2)", "float(0.01, 0.2)"], "cmp": "shape",
     "src": "def oval_around(c, rx, ry):\n    return scale(Point(c).buffer(1.0), xfact=rx, yfact=ry)\n"},
    {"sig": "line = upright(length)", "args": ["float(0.05, 0.5)"], "cmp": "close_coords",
     "src": "def upright(length):\n    return rotate(LineString([[0, 0], [length, 0]]), 90)\n"},
    {"sig": "tri = turned_triangle(c, size, deg)", "args": ["pt", "float(0.02, 0.2)", "float(-90, 90)"],
     "cmp": "close_coords",
     "src": "def turned_triangle(c, size, deg):\n"
            "    tri = Polygon([[c[0] - size / 2, c[1]], [c[0] + size / 2, c[1]], [c[0], c[1] + size]])\n"
            "    return rotate(tri, deg, origin='centroid')\n"},
    {"sig": "ok = apart(polys)", "args": ["polys(3)"], "cmp": "equal",
     "src": "def apart(polys):\n    for i in range(len(polys)):\n        for j in range(i + 1, len(polys)):\n"
            "            if polys[i].intersects(polys[j]):\n                return False\n    return True\n"},
    {"sig": "a = area_of(pts)", "args": ["convex(5)"], "cmp": "close",
     "src": "def area_of(pts):\n    return Polygon(pts).area\n"},
    # --- object positions (answered from a scene) ---------------------------------------------
    {"sig": "name = nearest_object(pt, names)", "args": ["pt", "names"], "cmp": "equal",
     "src": "def nearest_object(pt, names):\n    best = None\n    best_d = np.inf\n    for name in names:\n"
            "        d = np.linalg.norm(get_obj_pos(name) - pt)\n        if d < best_d:\n"
            "            best, best_d = name, d\n    return best\n"},
    {"sig": "ok = all_close(names, limit)", "args": ["names", "float(0.05, 0.4)"], "cmp": "equal",
     "src": "def all_close(names, limit):\n    first = get_obj_pos(names[0])\n"
            "    return all([np.linalg.norm(get_obj_pos(n) - first) < limit for n in names[1:]])\n"},
    {"sig": "box = bounds_of_objects(names)", "args": ["names"], "cmp": "close",
     "src": "def bounds_of_objects(names):\n    pts = np.array([get_obj_pos(n) for n in names])\n"
            "    return np.array(MultiPoint(pts).bounds)\n"},
    {"sig": "names = inside_zone(names, zone)", "args": ["names", "poly"], "cmp": "equal",
     "src": "def inside_zone(names, zone):\n    return [n for n in names if zone.contains(Point(get_obj_pos(n)))]\n"},
]
