"""Shared helpers of the anatomy authoring scripts (gen_*.py): vector maths, rotations as the
engine reads them, and moving shapes between absolute and anchor-relative coordinates. Authoring
tools only: nothing here runs at build or run time."""
import math


def norm(v):
    l = math.sqrt(sum(x * x for x in v))
    return [x / l for x in v]


def cross(a, b):
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def euler(ex, ey, ez):
    """rot [rx, ry, rz] (R = Rz Ry Rx, degrees) whose columns are the local axes ex, ey, ez."""
    R = [[ex[i], ey[i], ez[i]] for i in range(3)]
    b = -math.asin(max(-1.0, min(1.0, R[2][0])))
    a = math.atan2(R[2][1], R[2][2])
    g = math.atan2(R[1][0], R[0][0])
    return [round(math.degrees(a), 2), round(math.degrees(b), 2), round(math.degrees(g), 2)]


def translate(s, d, rnd=lambda v: round(v, 2)):
    """Copy of a shape with every position (c, a, b, p, tube points) moved by d."""
    if isinstance(s, list):
        return [translate(x, d, rnd) for x in s]
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k in ("c", "a", "b", "p") and isinstance(v, list) and len(v) == 3:
            out[k] = [rnd(v[i] + d[i]) for i in range(3)]
        elif k == "points":
            out[k] = [[rnd(q[0] + d[0]), rnd(q[1] + d[1]), rnd(q[2] + d[2]), q[3]] for q in v]
        else:
            out[k] = translate(v, d, rnd)
    return out


# ---- shape and structure builders (JSON of the anatomy format) ----
def tube(pts):
    return {"tube": {"points": [[round(v, 2) for v in p] for p in pts]}}


def union(*s):
    return s[0] if len(s) == 1 else {"union": list(s)}


def diff(*s):
    return {"difference": list(s)}


def off(s, d):
    return {"offset": {"d": d, "of": s}}


def S(id, name, group, tissue, color, priority, shape, **kw):
    """A structure; core=(tissue, depth_mm) becomes the "core" field."""
    d = {"id": id, "name": name, "group": group, "tissue": tissue, "color": color,
         "priority": priority}
    core = kw.pop("core", None)
    if core:
        d["core"] = {"tissue": core[0], "depth_mm": core[1]}
    d.update(kw)
    d["shape"] = shape
    return d
