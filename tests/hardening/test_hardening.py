#!/usr/bin/python3
"""Hardening tests of the synthbody command (README "Hardening").

Run one test:  /usr/bin/python3 test_hardening.py --bin path/to/synthbody --work DIR
                   [--asan] TEST_NAME
CTest registers every function named test_* as its own test (tests/hardening/CMakeLists.txt).
Exit 77 = skipped (ctest SKIP_RETURN_CODE), with the reason printed.

Allocation bound: every hostile input runs with a memory cap far below what its header claims
but above what the file justifies — under ASan (--asan) ASAN_OPTIONS max_allocation_size_mb=64
with allocator_may_return_null=1 (an allocation above 64 MiB returns NULL and the command then
exits 5, which the test refuses); otherwise RLIMIT_AS of 1 GiB (the command maps ~0.3 GiB of
libraries and thread stacks).
"""
import argparse
import glob
import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_hostile  # noqa: E402

BIN = None
WORK = None
ASAN = False
SKIP = 77
OK, INTERNAL, USAGE, INPUT, OUTPUT, MEMORY, EXISTS, LABEL = range(8)
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def run(*args, expect=None, capped=True, timeout=600):
    env = dict(os.environ)
    preexec = None
    if capped:
        if ASAN:
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                                   ":max_allocation_size_mb=64:allocator_may_return_null=1")
        else:
            preexec = limit_memory
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                       env=env, preexec_fn=preexec, stdin=subprocess.DEVNULL)
    if expect is not None and p.returncode != expect:
        raise AssertionError(f"synthbody {' '.join(map(str, args))}: exit {p.returncode}, "
                             f"expected {expect}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def fresh(name):
    d = os.path.join(WORK, name)
    if os.path.ismount(d):
        subprocess.run(["umount", d])
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def listing(d):
    """Every entry below d (hidden ones too), relative."""
    out = []
    for root, dirs, files in os.walk(d):
        for f in dirs + files:
            out.append(os.path.relpath(os.path.join(root, f), d))
    return sorted(out)


def one_clear_error(p, path, words):
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines}"
    line = lines[0]
    assert line.startswith("synthbody: error: "), line
    assert path in line, f"the message does not name {path}: {line}"
    for w in words:
        assert w in line, f"the message lacks \"{w}\": {line}"


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---- hostile inputs -------------------------------------------------------------------------
def hostile_dir(name):
    d = fresh(name)
    make_hostile.write_all(d)
    return d


def test_hostile_nifti_info():
    """Each lie of make_hostile.py: `info` exits 3 with one line naming the file and the field."""
    d = hostile_dir("hostile_info")
    for name, _, code, words in make_hostile.CASES:
        path = os.path.join(d, name)
        p = run("info", path, expect=code)
        one_clear_error(p, path, words)
        assert p.stdout == "", p.stdout


def test_hostile_nifti_mesh():
    """`mesh` refuses each hostile file before any work and leaves its output directory empty."""
    d = hostile_dir("hostile_mesh")
    for name, _, code, words in make_hostile.CASES:
        path = os.path.join(d, name)
        out = os.path.join(WORK, "hostile_mesh_out")
        shutil.rmtree(out, ignore_errors=True)
        p = run("mesh", path, "--out", out, expect=code)
        one_clear_error(p, path, words)
        assert not os.path.exists(out) or listing(out) == [], listing(out)


def test_hostile_nifti_preview():
    """`preview FILE` refuses each hostile file and writes no PNG."""
    d = hostile_dir("hostile_preview")
    png = os.path.join(WORK, "hostile_preview.png")
    for name, _, code, words in make_hostile.CASES:
        path = os.path.join(d, name)
        if os.path.exists(png):
            os.unlink(png)
        p = run("preview", path, "--out", png, expect=code)
        assert path in p.stderr, p.stderr
        assert not os.path.exists(png)


def test_hostile_mesh_files_crashing_assimp():
    """Mesh files on which Assimp 5.2 aborted or crashed (fuzz findings, tests/fuzz/regressions/
    mesh/; the first byte of a fuzz input picks the extension): `info` never dies of a signal;
    it reads the file (exit 0) or refuses it with one clear line (exit 3)."""
    exts = [".stl", ".obj", ".ply", ".off", ".glb", ".gltf", ".3mf", ".mesh"]
    d = fresh("assimp_crash")
    reg = os.path.join(REPO, "tests", "fuzz", "regressions", "mesh")
    for name in sorted(os.listdir(reg)):
        with open(os.path.join(reg, name), "rb") as f:
            blob = f.read()
        if not blob:
            continue
        path = os.path.join(d, name + exts[blob[0] % len(exts)])
        with open(path, "wb") as f:
            f.write(blob[1:])
        p = run("info", path)
        assert p.returncode in (OK, INPUT), f"{name}: exit {p.returncode}\n{p.stderr}"
        if p.returncode == INPUT:
            one_clear_error(p, path, [])


def label_map(path, ids):
    """A small uint8 label map: one 3x3x3 block per id, spaced along x."""
    import nibabel as nib
    import numpy as np
    a = np.zeros((6 * len(ids) + 2, 7, 7), np.uint8)
    for k, i in enumerate(ids):
        a[2 + 6 * k:5 + 6 * k, 2:5, 2:5] = i
    img = nib.Nifti1Image(a, np.diag([2.0, 2.0, 2.0, 1.0]))
    nib.save(img, path)


def test_hostile_label_names():
    """labels.tsv names with ../, /, control characters or dot-names never leave --out: such
    rows are dropped and their labels are written as label_<id>.stl inside the directory."""
    d = fresh("label_names")
    inp = os.path.join(d, "in")
    os.makedirs(inp)
    label_map(os.path.join(inp, "seg.nii.gz"), [1, 2, 3, 4, 5, 6])
    with open(os.path.join(inp, "labels.tsv"), "wb") as f:
        f.write(b"index\tname\tabbreviation\tcolor\n"
                b"1\t../../escaped\tX\t#ff0000\n"
                b"2\tsub/dir\tX\t#00ff00\n"
                b"3\tbell\x07name\tX\t#0000ff\n"
                b"4\t..\tX\t#ffffff\n"
                b"5\tliver\tLIV\t#dd8265\n"
                b"6\tescape\x1bcode\tX\t#000000\n")
    out = os.path.join(d, "out")
    run("mesh", os.path.join(inp, "seg.nii.gz"), "--out", out, expect=OK)
    files = listing(out)
    assert files == sorted(["label_1.stl", "label_2.stl", "label_3.stl", "label_4.stl",
                            "liver.stl", "label_6.stl"]), files
    assert listing(d) == sorted(["in", "in/labels.tsv", "in/seg.nii.gz", "out"] +
                                ["out/" + f for f in files]), listing(d)
    assert not os.path.exists(os.path.join(WORK, "escaped.stl"))


# ---- output safety --------------------------------------------------------------------------
def test_symlink_planted_at_output():
    """A symbolic link planted at an output name is never written through: without --force the
    job stops (exit 6) before writing anything; with --force the link itself is replaced."""
    d = fresh("symlink")
    victim = os.path.join(d, "victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    before = sha(victim)
    out = os.path.join(d, "subject")
    os.makedirs(out)
    os.symlink(victim, os.path.join(out, "labels.tsv"))
    os.symlink(os.path.join(d, "nowhere"), os.path.join(out, "subject.json"))  # dangling
    p = run("generate", "--seed", 5, "--voxel", 8, "--contrasts", "T1w", "--out", out,
            expect=EXISTS, capped=False)
    assert "labels.tsv" in p.stderr or "subject.json" in p.stderr, p.stderr
    assert sorted(os.listdir(out)) == ["labels.tsv", "subject.json"], os.listdir(out)
    run("generate", "--seed", 5, "--voxel", 8, "--contrasts", "T1w", "--out", out, "--force",
        expect=OK, capped=False)
    assert sha(victim) == before, "the victim was written through the link"
    assert not os.path.exists(os.path.join(d, "nowhere")), "the dangling link was followed"
    for f in ("labels.tsv", "subject.json"):
        assert not os.path.islink(os.path.join(out, f)) and os.path.isfile(os.path.join(out, f))
    assert not [f for f in os.listdir(out) if ".tmp." in f]


def tmpfs(name, size):
    """A tmpfs of `size` at WORK/name, or None when mounting is not permitted (skip)."""
    d = fresh(name)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", d],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(f"SKIPPED: cannot mount a tmpfs at {d} (needs root): {p.stderr.strip()}")
        sys.exit(SKIP)
    return d


def test_disk_full_generate():
    """generate on a 256 KiB tmpfs: exit 4, the message says disk full, no file is left."""
    d = tmpfs("full_generate", "256k")
    try:
        out = os.path.join(d, "s")
        p = run("generate", "--seed", 5, "--voxel", 8, "--contrasts", "T1w", "--out", out, "-q",
                expect=OUTPUT, capped=False)
        assert "disk full" in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        left = listing(d)
        assert left in ([], ["s"]), f"files left on the full disk: {left}"
    finally:
        subprocess.run(["umount", d])


def test_disk_full_mesh():
    """mesh --labels all onto a 64 KiB tmpfs: exit 4 with disk full, no partial STL left."""
    src = fresh("full_mesh_src")
    label_map(os.path.join(src, "seg.nii.gz"), list(range(1, 41)))
    d = tmpfs("full_mesh", "64k")
    try:
        out = os.path.join(d, "m")
        p = run("mesh", os.path.join(src, "seg.nii.gz"), "--out", out, expect=OUTPUT,
                capped=False)
        assert "disk full" in p.stderr, p.stderr
        left = listing(d)
        assert left in ([], ["m"]), f"files left on the full disk: {left}"
    finally:
        subprocess.run(["umount", d])


def test_sigint_removes_temporaries():
    """SIGINT (and SIGTERM) while an output is being written: the process dies of the signal
    and no temporary file is left (the finished ones of the interrupted job may stay)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        out = fresh(f"sig{int(sig)}")
        pr = subprocess.Popen([BIN, "generate", "--seed", "7", "--voxel", "2.5", "--contrasts",
                               "T1w,T2w", "--out", out, "--force", "-q"],
                              stderr=subprocess.PIPE, text=True)
        seen = None
        t0 = time.time()
        while pr.poll() is None and time.time() - t0 < 300:
            tmp = [f for f in os.listdir(out) if ".tmp." in f]
            if tmp:
                seen = tmp[0]
                pr.send_signal(sig)
                break
            time.sleep(0.002)
        rc = pr.wait(timeout=300)
        assert seen, "no temporary file was seen before the job ended"
        assert rc == -sig, f"exit {rc}, expected death by signal {int(sig)}"
        left = [f for f in os.listdir(out) if ".tmp." in f]
        assert not left, f"temporary files left after signal {int(sig)}: {left}"


def main():
    global BIN, WORK, ASAN
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--asan", action="store_true")
    ap.add_argument("test")
    a = ap.parse_args()
    BIN, WORK, ASAN = os.path.abspath(a.bin), os.path.abspath(a.work), a.asan
    os.makedirs(WORK, exist_ok=True)
    fn = globals().get(a.test)
    if not fn or not a.test.startswith("test_"):
        sys.exit(f"no test named {a.test}")
    fn()
    print(f"{a.test}: ok")


if __name__ == "__main__":
    main()
