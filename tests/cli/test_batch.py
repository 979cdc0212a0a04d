#!/usr/bin/python3
"""Tests of `synthbody batch`: BIDS layout read back with nibabel, same bytes under any split of
the batch (flags, Slurm and Kubernetes environment variables, GNU parallel with the sample
script), resume after SIGTERM and SIGKILL, usage errors.

Run one test:  /usr/bin/python3 test_batch.py --bin path/to/synthbody --work DIR TEST_NAME
CTest registers every function named test_* as its own test (tests/cli/CMakeLists.txt).
"""
import argparse
import csv
import fcntl
import filecmp
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import nibabel as nib

BIN = None
WORK = None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(ROOT, "samples", "cluster")

OK, INTERNAL, USAGE, INPUT, OUTPUT, MEMORY, EXISTS, LABEL = range(8)
SHARD_ENV = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
             "SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in SHARD_ENV}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(*args, expect=None, env=None):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=900, env=env or clean_env())
    if expect is not None and p.returncode != expect:
        raise AssertionError(f"synthbody {' '.join(map(str, args))}: exit {p.returncode}, "
                             f"expected {expect}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def fresh(name):
    d = os.path.join(WORK, name)
    shutil.rmtree(d, ignore_errors=True)
    return d


def tree(d, skip_logs=True):
    """Relative paths of every file under d (the shard logs hold times and hosts: skipped)."""
    out = []
    for base, dirs, files in os.walk(d):
        rel = os.path.relpath(base, d)
        if skip_logs and rel.replace(os.sep, "/").endswith("derivatives/synthbody/logs"):
            continue
        out += [os.path.normpath(os.path.join(rel, f)) for f in files]
    return sorted(out)


def same_dataset(a, b):
    ta, tb = tree(a), tree(b)
    assert ta == tb, f"{a} and {b} hold different files: {sorted(set(ta) ^ set(tb))[:10]}"
    diff = [f for f in ta if not filecmp.cmp(os.path.join(a, f), os.path.join(b, f),
                                             shallow=False)]
    assert not diff, f"{a} and {b} differ in {diff[:10]}"
    return len(ta)


def no_temporaries(d):
    left = [f for f in tree(d, skip_logs=False) if ".tmp." in f or f.startswith(".work")
            or "/.work/" in f]
    assert not left, f"temporary files left behind: {left}"
    assert not os.path.exists(os.path.join(d, "derivatives", "synthbody", ".work")), \
        f"{d}: staging directory left behind"


SMALL = ("--voxel", 8, "--seed", 11)


def reference(count, *extra):
    """The dataset made by one process (cached per settings)."""
    key = "ref-" + "-".join(map(str, (count,) + SMALL + extra)).replace("-", "").replace(",", "_")
    d = os.path.join(WORK, key)
    with open(d + ".lock", "w") as lock:  # tests running side by side share it
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(d, "participants.tsv")):
            shutil.rmtree(d, ignore_errors=True)
            run("batch", "--count", count, "--out", d, "--shard", "0/1", "-q", *SMALL, *extra,
                expect=OK)
    return d


# ---- the layout ---------------------------------------------------------------------------------

BIDS_NAME = re.compile(r"^sub-[0-9]{4}(_acq-[a-zA-Z0-9]+)?(_desc-[a-zA-Z0-9]+)?_"
                       r"(T1w|T2w|PDw|FLAIR|dseg|map|md|dwi)\.(nii\.gz|json)$")


def test_bids_layout_read_back():
    contrasts = "T1w,STIR,dixon_water,dixon_fat,fatfrac,dwi_b800,ADC"
    d = reference(3, "--contrasts", contrasts, "--mesh")
    no_temporaries(d)
    # dataset_description.json: raw at the top, derivative under derivatives/synthbody
    raw = json.load(open(os.path.join(d, "dataset_description.json")))
    der = json.load(open(os.path.join(d, "derivatives", "synthbody", "dataset_description.json")))
    for dd, kind in ((raw, "raw"), (der, "derivative")):
        assert dd["BIDSVersion"] == "1.8.0" and dd["Name"] and dd["DatasetType"] == kind, dd
        g = dd["GeneratedBy"][0]
        assert g["Name"] == "synthbody" and re.match(r"^\d+\.\d+\.\d+$", g["Version"]), g
        assert g["MasterSeed"] == "11", g
    assert os.path.getsize(os.path.join(d, "README")) > 100
    # names: every file of a subject is a BIDS name in the right folder
    expect_raw = {"T1w", "acq-stir_T2w", "acq-dixonwater_PDw", "acq-dixonfat_PDw"}
    expect_der = {"anat": {"dseg", "acq-dixon_desc-fatfraction_map"},
                  "dwi": {"acq-b50_desc-trace_dwi", "acq-b800_desc-trace_dwi", "desc-adc_md"}}  # ADC adds b50
    participants = list(csv.DictReader(open(os.path.join(d, "participants.tsv")), delimiter="\t"))
    assert [p["participant_id"] for p in participants] == ["sub-0001", "sub-0002", "sub-0003"]
    pj = json.load(open(os.path.join(d, "participants.json")))
    assert set(pj) == set(participants[0]), (set(pj), set(participants[0]))
    dseg_rows = list(csv.DictReader(open(os.path.join(d, "derivatives", "synthbody", "dseg.tsv")),
                                    delimiter="\t"))
    dseg = {int(r["index"]): r for r in dseg_rows}
    assert all(re.match(r"^#[0-9a-f]{6}$", r["color"]) and r["name"] and r["abbreviation"]
               for r in dseg_rows)
    for p in participants:
        sub = p["participant_id"]
        anat = os.path.join(d, sub, "anat")
        got = sorted(os.listdir(anat))
        assert got == sorted(f"{sub}_{n}{e}" for n in expect_raw for e in (".nii.gz", ".json")), got
        for dt, names in expect_der.items():
            got = sorted(os.listdir(os.path.join(d, "derivatives", "synthbody", sub, dt)))
            want = sorted(f"{sub}_{n}{e}" for n in names for e in (".nii.gz", ".json")
                          if not (n == "dseg" and e == ".json"))
            assert got == want, (got, want)
        for f in glob.glob(os.path.join(d, sub, "*", "*")) + glob.glob(
                os.path.join(d, "derivatives", "synthbody", sub, "*", "*.nii.gz")):
            assert BIDS_NAME.match(os.path.basename(f)), f
        # participants.tsv against the subject's record
        rec = json.load(open(os.path.join(d, "derivatives", "synthbody", sub,
                                          f"{sub}_subject.json")))
        sp = rec["subject_parameters"]
        assert p["sex"] == {"male": "M", "female": "F"}[sp["sex"]]
        assert abs(float(p["age"]) - sp["age_y"]) <= 0.051
        assert abs(float(p["height"]) - sp["height_cm"]) <= 0.051
        assert abs(float(p["weight"]) - sp["weight_kg"]) <= 0.051
        assert abs(float(p["bmi"]) - sp["bmi"]) <= 0.0051
        assert p["seed"] == rec["seed"] and rec["voxel_mm"] == 8
        # images: nibabel reads them on one grid; sidecars carry the BIDS fields
        lab = nib.load(os.path.join(d, "derivatives", "synthbody", sub, "anat",
                                    f"{sub}_dseg.nii.gz"))
        ids = set(np.unique(np.asarray(lab.dataobj)).tolist()) - {0}
        assert ids and ids <= set(dseg), f"{sub}: label ids missing from dseg.tsv: {ids - set(dseg)}"
        assert len(ids) > 50, f"{sub}: only {len(ids)} labels at 8 mm"
        assert lab.header.get_intent()[0] == "label"
        for n in expect_raw:
            img = nib.load(os.path.join(anat, f"{sub}_{n}.nii.gz"))
            assert img.shape == lab.shape and np.allclose(img.affine, lab.affine), n
            assert float(np.asarray(img.dataobj).max()) > 0, n
            side = json.load(open(os.path.join(anat, f"{sub}_{n}.json")))
            assert side["RepetitionTime"] > 0 and side["MagneticFieldStrength"] in (1.5, 3), side
            assert side["SynthbodySeed"] == rec["seed"], side
        side = json.load(open(os.path.join(anat, f"{sub}_acq-stir_T2w.json")))
        assert side["InversionTime"] > 0 and side["SynthbodyContrast"] == "STIR", side
        # meshes under derivatives, one per mesh listed in the record
        meshes = sorted(os.listdir(os.path.join(d, "derivatives", "synthbody", sub, "meshes")))
        assert meshes == sorted(m["name"] + ".stl" for m in rec["meshes"]) and len(meshes) > 50
        assert {m[:-4] for m in meshes} <= {r["name"] for r in dseg_rows}
    # subject k is `synthbody generate --seed S_k`: same bytes
    g = fresh("bids-generate-2")
    seed2 = participants[1]["seed"]
    run("generate", "--seed", seed2, "--voxel", 8, "--contrasts", contrasts, "--mesh", "--out", g,
        "-q", expect=OK)
    der2 = os.path.join(d, "derivatives", "synthbody", "sub-0002")
    pairs = [("labels.nii.gz", os.path.join(der2, "anat", "sub-0002_dseg.nii.gz")),
             ("subject.json", os.path.join(der2, "sub-0002_subject.json")),
             ("STIR.nii.gz", os.path.join(d, "sub-0002", "anat", "sub-0002_acq-stir_T2w.nii.gz")),
             ("ADC.nii.gz", os.path.join(der2, "dwi", "sub-0002_desc-adc_md.nii.gz")),
             ("meshes/liver.stl", os.path.join(der2, "meshes", "liver.stl"))]
    for a, b in pairs:
        assert filecmp.cmp(os.path.join(g, a), b, shallow=False), f"{a} != {b}"
    # the seeds follow the documented rule: SplitMix64 output k of the master seed
    def splitmix64(master, k):
        z = (master + k * 0x9E3779B97F4A7C15) & (2**64 - 1)
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
        return z ^ (z >> 31)
    assert [int(p["seed"]) for p in participants] == [splitmix64(11, k) for k in (1, 2, 3)]


def test_acquisition_options_as_generate():
    """Every MR option of generate that makes sense per subject reaches each batch subject: a
    subject equals `generate` with the same options and its seed, byte for byte, and the options
    are recorded in batch.json."""
    opts = ["--contrasts", "T2w,dixon_water,dixon_fat,fatfrac", "--field", 3,
            "--snr", 25, "--bias", 0.3, "--texture", 0.05, "--acq-voxel", 10, "--slice", 12,
            "--stations", 3, "--overlap-mm", 40, "--ghosting", 0.1, "--ghost-period", 6,
            "--fat-water-swap", 1, "--flow-voids", 30, "--compress", "none"]
    d = fresh("acq-options")
    run("batch", "--count", 1, "--out", d, "-q", "--voxel", 8, "--seed", 5, *opts, expect=OK)
    no_temporaries(d)
    rec = json.load(open(os.path.join(d, "derivatives", "synthbody", "batch.json")))
    want = {"field_T": 3, "snr": 25, "bias": 0.3, "texture": 0.05, "acq_voxel_mm": 10,
            "slice_mm": 12, "stations": 3, "overlap_mm": 40, "ghosting": 0.1, "ghost_period": 6,
            "fat_water_swap": 1, "flow_voids_cm_s": 30, "compress": "none"}
    assert {k: rec.get(k) for k in want} == want, rec
    sub = "sub-0001"
    der = os.path.join(d, "derivatives", "synthbody", sub)
    seed = json.load(open(os.path.join(der, f"{sub}_subject.json")))["seed"]
    g = fresh("acq-options-generate")
    run("generate", "--seed", seed, "--voxel", 8, "--out", g, "-q", *opts, expect=OK)
    gen = json.load(open(os.path.join(g, "subject.json")))
    assert gen["mri"]["stations"] == 3 and gen["mri"]["fat_water_swap"]["swapped"], gen["mri"]
    anat = os.path.join(d, sub, "anat")
    pairs = [("labels.nii.gz", os.path.join(der, "anat", f"{sub}_dseg.nii.gz")),
             ("subject.json", os.path.join(der, f"{sub}_subject.json")),
             ("T2w.nii", os.path.join(anat, f"{sub}_T2w.nii")),
             ("dixon_water.nii", os.path.join(anat, f"{sub}_acq-dixonwater_PDw.nii")),
             ("dixon_fat.nii", os.path.join(anat, f"{sub}_acq-dixonfat_PDw.nii")),
             ("fatfrac.nii", os.path.join(der, "anat", f"{sub}_acq-dixon_desc-fatfraction_map.nii"))]
    for a, b in pairs:
        assert filecmp.cmp(os.path.join(g, a), b, shallow=False), f"{a} != {b}"
    # the sidecars carry the acquisition, as generate's do
    side = json.load(open(os.path.join(anat, f"{sub}_acq-dixonfat_PDw.json")))
    assert side["SynthbodyStations"] == 3 and side["SynthbodyGhosting"] == 0.1, side
    assert side["SynthbodyFatWaterSwap"]["Swapped"] is True, side
    assert json.load(open(os.path.join(anat, f"{sub}_T2w.json")))[
        "SynthbodyFlowVoidVelocityCMS"] == 30
    assert not glob.glob(os.path.join(d, "sub-*", "anat", "*.nii.gz"))  # --compress none
    # a bad value is refused as generate refuses it, before anything is written
    e = fresh("acq-options-bad")
    for opt, val, msg in (("--ghosting", 0.9, "--ghosting 0.9 is outside 0..0.5"),
                          ("--stations", 17, "--stations 17 is outside 1..16"),
                          ("--compress", "zstd", "--compress: \"zstd\" is not gzip or none")):
        p = run("batch", "--count", 1, "--out", e, opt, val, expect=USAGE)
        assert msg in p.stderr, p.stderr
        p = run("generate", "--out", e, opt, val, expect=USAGE)
        assert msg in p.stderr, p.stderr
    assert not os.path.exists(e)


def test_merge_rewrites_participants():
    d = reference(3)
    tsv = os.path.join(d, "participants.tsv")
    want = open(tsv, "rb").read()
    m = fresh("merge")
    shutil.copytree(d, m)
    os.remove(os.path.join(m, "participants.tsv"))
    run("batch", "--merge", m, expect=OK)
    assert open(os.path.join(m, "participants.tsv"), "rb").read() == want
    # an unfinished subject: merge refuses and names it
    os.remove(os.path.join(m, "derivatives", "synthbody", "sub-0002", "sub-0002_subject.json"))
    os.remove(os.path.join(m, "participants.tsv"))
    p = run("batch", "--merge", m, expect=INPUT)
    assert "1 of 3 subjects are unfinished (first: sub-0002)" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(m, "participants.tsv"))
    # the shard that made the others writes no participants.tsv while one is missing; its rerun
    # makes sub-0002 and then writes it
    p = run("batch", "--count", 3, "--out", m, *SMALL, "--shard", "1/3", expect=OK)
    assert "1 of 1 subjects made" in p.stderr and os.path.exists(os.path.join(m, "participants.tsv"))
    same_dataset(d, m)


# ---- splits -------------------------------------------------------------------------------------

def test_any_split_same_bytes():
    ref = reference(5)
    # three shards at once (flags)
    d = fresh("split-flags")
    procs = [subprocess.Popen([BIN, "batch", "--count", "5", "--out", d, "--shard", f"{i}/3",
                               "-q", *map(str, SMALL)], env=clean_env()) for i in range(3)]
    assert [p.wait(timeout=900) for p in procs] == [0, 0, 0]
    assert same_dataset(ref, d) > 20
    no_temporaries(d)
    logs = sorted(os.listdir(os.path.join(d, "derivatives", "synthbody", "logs")))
    assert logs == [f"shard-{i}-of-3.tsv" for i in range(3)], logs
    rows = list(csv.DictReader(open(os.path.join(d, "derivatives", "synthbody", "logs",
                                                 "shard-1-of-3.tsv")), delimiter="\t"))
    assert [(r["participant_id"], r["status"]) for r in rows] == [("sub-0002", "done"),
                                                                  ("sub-0005", "done")], rows
    assert all(float(r["seconds"]) > 0 for r in rows)
    # Kubernetes Indexed Job: JOB_COMPLETION_INDEX and --shard-count
    d = fresh("split-k8s")
    for i in (1, 0):
        run("batch", "--count", 5, "--out", d, "--shard-count", 2, "-q", *SMALL,
            env=clean_env(JOB_COMPLETION_INDEX=i), expect=OK)
    same_dataset(ref, d)
    # Slurm array --array=1-4 (MIN 1): task id - min is the shard
    d = fresh("split-slurm-env")
    for tid in (4, 2, 3, 1):
        run("batch", "--count", 5, "--out", d, "-q", *SMALL, expect=OK,
            env=clean_env(SLURM_ARRAY_TASK_ID=tid, SLURM_ARRAY_TASK_MIN=1,
                          SLURM_ARRAY_TASK_MAX=4, SLURM_ARRAY_TASK_COUNT=4))
    same_dataset(ref, d)
    assert os.path.exists(os.path.join(d, "derivatives", "synthbody", "logs", "shard-3-of-4.tsv"))
    # GNU parallel, with the sample script
    d = fresh("split-parallel")
    subprocess.run(["bash", os.path.join(SAMPLES, "gnu_parallel.sh")], check=True, timeout=900,
                   env=clean_env(SYNTHBODY=BIN, OUT=d, COUNT=5, SEED=11, VOXEL=8, JOBS=2,
                                 SYNTHBODY_ARGS="-q"))
    same_dataset(ref, d)


def test_kubernetes_manifest_matches_the_command():
    import yaml
    job = yaml.safe_load(open(os.path.join(SAMPLES, "k8s_indexed_job.yaml")))
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job"
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    cmd = spec["template"]["spec"]["containers"][0]["command"]
    assert cmd[:2] == ["synthbody", "batch"]
    opts = dict(a[2:].split("=", 1) for a in cmd[2:])
    assert int(opts["shard-count"]) == spec["completions"], (opts, spec["completions"])
    # the options are accepted by this build (a small count into a scratch directory)
    d = fresh("k8s-options")
    args = [a for a in cmd[2:] if not a.startswith(("--out=", "--count=", "--voxel="))]
    run("batch", *args, "--count=1", "--voxel=8", f"--out={d}", "-q",
        env=clean_env(JOB_COMPLETION_INDEX=0), expect=OK)
    assert os.path.exists(os.path.join(d, "participants.tsv"))


# ---- interruption -------------------------------------------------------------------------------

def wait_for(cond, what, timeout=300):
    t0 = time.time()
    while not cond():
        assert time.time() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.02)


def interrupted_run(name, sig):
    """Starts a 4-subject batch, sends sig while subject 2 is being made, returns the dir."""
    d = fresh(name)
    p = subprocess.Popen([BIN, "batch", "--count", "4", "--out", d, "-q", *map(str, SMALL),
                          "--mesh"], env=clean_env(), stderr=subprocess.PIPE, text=True)
    stage = os.path.join(d, "derivatives", "synthbody", ".work", "sub-0002", "out")
    # mid-subject: the label map of subject 2 is written, its images and meshes are not
    wait_for(lambda: os.path.exists(os.path.join(stage, "labels.nii.gz")) or p.poll() is not None,
             "subject 2 to start")
    assert p.poll() is None, "the batch ended before it could be interrupted"
    assert not os.path.exists(os.path.join(stage, "subject.json"))
    p.send_signal(sig)
    err = p.communicate(timeout=120)[1]
    assert p.returncode == -sig, (p.returncode, err)
    rec = lambda k: os.path.join(d, "derivatives", "synthbody", f"sub-000{k}",
                                 f"sub-000{k}_subject.json")
    assert os.path.exists(rec(1)) and not os.path.exists(rec(2)) and not os.path.exists(rec(3))
    assert not os.path.exists(os.path.join(d, "participants.tsv"))
    return d, err


def test_sigterm_then_rerun_same_bytes():
    ref = reference(4, "--mesh")
    d, err = interrupted_run("sigterm", signal.SIGTERM)
    assert "interrupted by signal 15" in err, err
    no_temporaries(d)  # the staging directory of subject 2 is gone
    assert not os.path.exists(os.path.join(d, "sub-0002"))
    p = run("batch", "--count", 4, "--out", d, "-q", *SMALL, "--mesh", expect=OK)
    same_dataset(ref, d)
    no_temporaries(d)
    rows = list(csv.DictReader(open(os.path.join(d, "derivatives", "synthbody", "logs",
                                                 "shard-0-of-1.tsv")), delimiter="\t"))
    assert [(r["participant_id"], r["status"]) for r in rows] == [
        ("sub-0001", "done"), ("sub-0002", "interrupted"), ("sub-0001", "skipped"),
        ("sub-0002", "done"), ("sub-0003", "done"), ("sub-0004", "done")], rows


def test_sigkill_then_rerun_same_bytes():
    ref = reference(4, "--mesh")
    d, _ = interrupted_run("sigkill", signal.SIGKILL)
    # SIGKILL leaves subject 2's staging files (no finished file names, no record); the child may
    # outlive its parent for a moment
    time.sleep(1)
    assert os.path.isdir(os.path.join(d, "derivatives", "synthbody", ".work", "sub-0002"))
    run("batch", "--count", 4, "--out", d, "-q", *SMALL, "--mesh", expect=OK)
    same_dataset(ref, d)
    no_temporaries(d)


def test_kill_during_placement_is_not_finished():
    """A subject whose files were moved but whose record was not is made again."""
    ref = reference(3)
    d = fresh("half-placed")
    shutil.copytree(ref, d)
    der = os.path.join(d, "derivatives", "synthbody")
    os.remove(os.path.join(der, "sub-0003", "sub-0003_subject.json"))
    os.remove(os.path.join(d, "participants.tsv"))
    with open(os.path.join(d, "sub-0003", "anat", "sub-0003_T1w.nii.gz"), "r+b") as f:
        f.truncate(100)  # as if corrupt: it must be replaced, not trusted
    p = run("batch", "--count", 3, "--out", d, *SMALL, expect=OK)
    assert "1 of 3 subjects made, 2 already finished" in p.stderr, p.stderr
    same_dataset(ref, d)


# ---- errors -------------------------------------------------------------------------------------

def test_batch_usage_and_settings_errors():
    d = fresh("errors")
    cases = [
        (["batch", "--out", d], {}, USAGE, "batch needs --count"),
        (["batch", "--count", 2], {}, USAGE, "batch needs --out"),
        (["batch", "--count", 0, "--out", d], {}, USAGE, "--count 0 is outside"),
        (["batch", "--count", 2, "--out", d, "--shard", "3/3"], {}, USAGE, "--shard: \"3/3\""),
        (["batch", "--count", 2, "--out", d, "--shard", "x"], {}, USAGE, "is not I/N"),
        (["batch", "--count", 2, "--out", d], {"JOB_COMPLETION_INDEX": 1}, USAGE,
         "JOB_COMPLETION_INDEX=1 needs --shard-count"),
        (["batch", "--count", 2, "--out", d, "--shard-count", 3],
         {"SLURM_ARRAY_TASK_ID": 0, "SLURM_ARRAY_TASK_COUNT": 4}, USAGE, "disagree"),
        (["batch", "--count", 2, "--out", d, "--shard-count", 3], {}, USAGE,
         "--shard-count needs a shard index"),
        (["batch", "--count", 2, "--out", d, "--bogus"], {}, USAGE, "unknown option \"--bogus\""),
        (["batch", "--count", 2, "--out", d, "--protocol", "nope"], {}, USAGE, "nope"),
        (["batch", "--merge", d], {}, INPUT, "batch.json"),
    ]
    for args, env, code, msg in cases:
        p = run(*args, env=clean_env(**env), expect=code)
        assert msg in p.stderr, (args, p.stderr)
    assert not os.path.exists(os.path.join(d, "sub-0001"))
    # other settings into an existing dataset: refused, nothing changed; --force remakes it
    run("batch", "--count", 1, "--out", d, "-q", *SMALL, expect=OK)
    before = {f: open(os.path.join(d, f), "rb").read() for f in tree(d)}
    p = run("batch", "--count", 1, "--out", d, "--voxel", 8, "--seed", 12, expect=EXISTS)
    assert "batch.json exists and differs" in p.stderr, p.stderr
    assert {f: open(os.path.join(d, f), "rb").read() for f in tree(d)} == before
    # a rerun without --seed resumes the recorded master seed
    p = run("batch", "--count", 1, "--out", d, "--voxel", 8, expect=OK)
    assert "master seed 11" in p.stderr and "1 already finished" in p.stderr, p.stderr
    run("batch", "--count", 1, "--out", d, "--voxel", 8, "--seed", 12, "--force", "-q", expect=OK)
    assert json.load(open(os.path.join(d, "dataset_description.json")))["GeneratedBy"][0][
        "MasterSeed"] == "12"
    assert open(os.path.join(d, "participants.tsv")).read().split("\n")[1].split("\t")[-1] != \
        before["participants.tsv"].decode().split("\n")[1].split("\t")[-1]
    # the same shard twice at once: the second refuses (exit 4) and touches nothing
    slow = subprocess.Popen([BIN, "batch", "--count", "3", "--out", fresh("locked"), "-q",
                             *map(str, SMALL)], env=clean_env())
    lock = os.path.join(WORK, "locked", "derivatives", "synthbody", ".work", "shard-0-of-1.lock")
    wait_for(lambda: os.path.exists(lock) or slow.poll() is not None, "the first batch")
    p = run("batch", "--count", 3, "--out", os.path.join(WORK, "locked"), *SMALL, expect=OUTPUT)
    assert "shard 0/1 of" in p.stderr and "already running" in p.stderr, p.stderr
    assert slow.wait(timeout=900) == 0


def main():
    global BIN, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("test")
    a = ap.parse_args()
    BIN = os.path.abspath(a.bin)
    WORK = os.path.abspath(a.work)
    os.makedirs(WORK, exist_ok=True)
    globals()[a.test]()
    print(f"{a.test}: ok")


if __name__ == "__main__":
    main()
