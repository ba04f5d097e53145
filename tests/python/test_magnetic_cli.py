"""`tsunagu magnetic generate | run | results | collect` as subprocesses.

Truths: the published Mn3AN basis (Suzuki et al., PRB 95, 094406 (2017)) as in test_magnetic.py; the CLI's basis
JSON equals the Python API's; a real pw.x run (Quantum ESPRESSO, Debian package) of two H atoms 4 Å apart with
parallel and antiparallel starting moments: both converge, the site moments keep the signs they started with and
the two energies are nearly equal (the atoms barely interact). Skipped, saying so, without pw.x/ld1.x.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import tsunagu.magnetic as tm

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "magnetic"


def run(cli, *args, timeout=300):
    return subprocess.run([cli, "magnetic", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_generate_prints_the_summary_and_writes_the_same_basis_as_python(cli, tmp_path):
    out = tmp_path / "basis.json"
    r = run(cli, "generate", EXAMPLES / "Mn3GaN.cif", "--magnetic-atoms", "Mn", "-o", out, "--mcif", tmp_path / "m")
    assert r.returncode == 0, r.stderr
    assert "9 = 2T1g + T2g (complete" in r.stdout
    assert "166.101 R-3m'" in r.stdout and "166.97 R-3m" in r.stdout and "123.345 P4/mm'm'" in r.stdout
    j = json.loads(out.read_text())
    assert j["point_group"] == "m-3m" and j["decomposition"] == "2T1g + T2g"
    for e in j["basis"]:
        assert set(e) >= {"irrep", "multipole", "type", "rank", "moments", "magnetic_space_group", "ahe_allowed"}
        assert set(e["magnetic_space_group"]) >= {"uni", "bns", "type"}
    py = tm.generate(EXAMPLES / "Mn3GaN.cif", "Mn")
    for a, b in zip(j["basis"], py["basis"]):
        np.testing.assert_allclose(np.array(a["moments"]), b["moments"], atol=1e-11)
        assert a["magnetic_space_group"] == b["magnetic_space_group"]
    assert len(list((tmp_path / "m").glob("*.mcif"))) == len(j["candidates"])


@pytest.mark.parametrize("args,message", [
    (["--magnetic-atoms", "Fe"], "no site of 'Fe'"),
    (["--magnetic-atoms", "Mn", "--order", "sideways"], "order"),
    (["--magnetic-atoms", "Mn", "--moment", "-1"], "moment"),
    (["--magnetic-atoms", "Mn", "--qe", "QE"], "--pseudo-dir"),
    (["--magnetic-atoms", "Mn", "--max-ranks", "3"], "--max-ranks"),
])
def test_generate_bad_input_is_one_line_and_writes_nothing(cli, tmp_path, args, message):
    out = tmp_path / "basis.json"
    r = run(cli, "generate", EXAMPLES / "Mn3GaN.cif", *args, "-o", out)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2  # one error line (CLI11 may add a usage hint)
    assert not out.exists()


def test_run_rejects_a_file_that_is_not_a_basis(cli, tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"format": "something else"}')
    r = run(cli, "run", bad, "--pseudo-dir", tmp_path, "--dry-run")
    assert r.returncode != 0 and "not a tsunagu magnetic basis" in r.stderr


H2_CIF = """data_H2
# two H atoms 4 A apart along a in a 9 x 5 x 5 A box (Pmmm orbit of 2 atoms, so q = 0 holds FM and AFM)
_cell_length_a 9
_cell_length_b 5
_cell_length_c 5
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
H1 0.277778 0.5 0.5
H2 0.722222 0.5 0.5
"""

LD1_INPUT = """&input
  title='H'
  zed=1.0
  rel=0
  config='1s1'
  iswitch=3
  dft='PBE'
/
&inputp
  pseudotype=1
  file_pseudopw='H.pbe-nc.UPF'
  lloc=0
  rcloc=1.0
/
1
1S  1  0  1.00  0.00  1.00  1.00  0.0
"""


def test_real_pw_run_of_ferro_and_antiferro_h2_through_the_cli(cli, tmp_path):
    if not (shutil.which("pw.x") and shutil.which("ld1.x")):
        pytest.skip("Quantum ESPRESSO (pw.x, ld1.x) not on PATH: the real pw.x run is skipped")
    pseudo = tmp_path / "pseudo"
    pseudo.mkdir()
    r = subprocess.run(["ld1.x"], input=LD1_INPUT, cwd=pseudo, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and (pseudo / "H.pbe-nc.UPF").exists(), r.stdout[-2000:]
    cif = tmp_path / "H2.cif"
    cif.write_text(H2_CIF)
    basis = tmp_path / "basis.json"
    r = run(cli, "generate", cif, "--magnetic-atoms", "H", "-o", basis, "--moment", "1")
    assert r.returncode == 0, r.stderr
    j = json.loads(basis.read_text())
    # spglib sees P4/mmm (b = c): the 1-D irreps hold the collinear states along the 4-fold axis a (x), parallel
    # (FM, A2g dipole) and antiparallel (AFM, A1u quadrupole).
    fm = afm = None
    for c in j["candidates"]:
        m = np.array(c["moments_muB"])
        if np.allclose(m[:, 1:], 0) and np.allclose(np.abs(m[:, 0]), 1):
            if m[0, 0] * m[1, 0] > 0:
                fm = c["name"]
            else:
                afm = c["name"]
    assert fm and afm, [(c["name"], c["moments_muB"]) for c in j["candidates"]]
    db = tmp_path / "runs" / "results.sqlite"
    r = run(cli, "run", basis, "--pseudo-dir", pseudo, "--db", db, "--ecutwfc", "20", "--k-mesh", "1", "1", "1",
            "--only", f"{fm},{afm}", "--quiet", timeout=600)
    assert r.returncode == 0, r.stderr
    res = json.loads(run(cli, "results", "--db", db, "--json").stdout)
    rows = {x["candidate"]: x for x in res}
    assert rows[fm]["status"] == rows[afm]["status"] == "done"
    assert rows[fm]["converged"] and rows[afm]["converged"]
    assert abs(rows[fm]["energy_ry"] - rows[afm]["energy_ry"]) < 3e-3  # 4 A apart: weak coupling
    assert min(rows[fm]["delta_mev_per_magnetic_atom"], rows[afm]["delta_mev_per_magnetic_atom"]) == 0.0
    api = {x["candidate"]: x for x in tm.results(db)}
    s_fm, s_afm = api[fm]["site_moments"], api[afm]["site_moments"]
    assert s_fm[0, 0] * s_fm[1, 0] > 0 and s_afm[0, 0] * s_afm[1, 0] < 0
    assert np.all(np.abs(s_fm[:, 0]) > 0.5)
    # Resuming does not rerun anything; the text table names both.
    r = run(cli, "run", basis, "--pseudo-dir", pseudo, "--db", db, "--ecutwfc", "20", "--k-mesh", "1", "1", "1",
            "--only", f"{fm},{afm}")
    assert r.returncode == 0 and "0 run, 2 skipped" in r.stderr, r.stderr
    text = run(cli, "results", "--db", db).stdout
    assert fm in text and afm in text


def test_dry_run_and_slurm_write_inputs_and_collect_reads_nothing_yet(cli, tmp_path):
    pseudo = tmp_path / "pseudo"
    pseudo.mkdir()
    for el in ("Mn", "Ga", "N"):
        (pseudo / f"{el}.pbe.UPF").write_text("")
    basis = tmp_path / "basis.json"
    assert run(cli, "generate", EXAMPLES / "Mn3GaN.cif", "--magnetic-atoms", "Mn", "-o", basis).returncode == 0
    n = len(json.loads(basis.read_text())["candidates"])
    r = run(cli, "run", basis, "--pseudo-dir", pseudo, "--work-dir", tmp_path / "w", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "w").glob("*/pw.in"))) == n
    r = run(cli, "run", basis, "--pseudo-dir", pseudo, "--slurm", tmp_path / "s" / "submit.sh", "--partition", "q")
    assert r.returncode == 0, r.stderr
    script = (tmp_path / "s" / "submit.sh").read_text()
    assert f"#SBATCH --array=0-{n - 1}" in script and "#SBATCH --partition=q" in script
    r = run(cli, "collect", "--work-dir", tmp_path / "s")
    assert r.returncode == 0, r.stderr
    res = json.loads(run(cli, "results", "--db", tmp_path / "s" / "results.sqlite", "--json").stdout)
    assert len(res) == n and {x["status"] for x in res} == {"pending"}


def test_no_directions_keeps_components_as_candidates_and_species_limit_skips_with_a_warning(cli, tmp_path):
    out = tmp_path / "b.json"
    r = run(cli, "generate", EXAMPLES / "Mn3GaN.cif", "--magnetic-atoms", "Mn", "--no-directions", "-o", out)
    assert r.returncode == 0, r.stderr
    names = [c["name"] for c in json.loads(out.read_text())["candidates"]]
    assert len(names) == 9 and names[0] == "001_T1g_M1_c1"
    pseudo = tmp_path / "pseudo"
    pseudo.mkdir()
    for el in ("Mn", "Ga", "N"):
        (pseudo / f"{el}.UPF").write_text("")
    r = run(cli, "generate", EXAMPLES / "Mn3GaN.cif", "--magnetic-atoms", "Mn", "--qe", tmp_path / "qe",
            "--pseudo-dir", pseudo, "--max-species", "4", "--ecutwfc", "50")
    assert r.returncode == 0, r.stderr
    written = sorted(p.parent.name for p in (tmp_path / "qe").glob("*/pw.in"))
    assert written and all("M1" in n or "_001" in n for n in written)  # collinear ones need <= 4 species
    assert "more than max_species = 4" in r.stderr
    assert "ecutwfc = 50" in (tmp_path / "qe" / written[0] / "pw.in").read_text()
