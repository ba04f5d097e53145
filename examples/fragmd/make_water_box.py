#!/usr/bin/env python3
"""Write an efpmd-style input with N = n^3 rigid EFP2 waters on a jittered cubic lattice at a given density.

    python3 examples/fragmd/make_water_box.py --n 4 --density 0.997 --seed 7 -o examples/fragmd/water64.in
    python3 examples/fragmd/make_water_box.py --n 5 --cutoff 7.5 --seed 11 --ensemble npt --ewald \
        --thermostat-tau 100 --barostat-tau 1000 --max-steps 12000 -o examples/fragmd/water125_npt.in

Orientations are uniformly random (Euler angles a, c uniform, cos b uniform); centres sit on the lattice with a
±0.2 Å jitter. The start is strained (random orientations at liquid density); equilibrate with NVT before measuring.
"""
import argparse
import math
import random

AVOGADRO = 6.02214076e23
M_WATER = 18.01528  # g/mol

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=4, help="molecules per box edge (N = n^3)")
p.add_argument("--density", type=float, default=0.997, help="g/cm3 (0.997: water at 298 K)")
p.add_argument("--seed", type=int, default=7)
p.add_argument("--cutoff", type=float, default=6.0, help="swf_cutoff, Å (must be < half the box)")
p.add_argument("--ensemble", choices=("nve", "nvt", "npt"), default="nvt")
p.add_argument("--pressure", type=float, default=1.0, help="bar (npt)")
p.add_argument("--thermostat-tau", type=float, default=50.0, help="fs")
p.add_argument("--barostat-tau", type=float, default=None, help="fs (npt; efpmd's default 10000 when absent)")
p.add_argument("--ewald", action="store_true", help="Ewald-sum the charge-charge terms (tsunagu extension)")
p.add_argument("--max-steps", type=int, default=100)
p.add_argument("-o", "--output", required=True)
a = p.parse_args()
random.seed(a.seed)
n_mol = a.n ** 3
box = (n_mol * M_WATER / AVOGADRO / a.density) ** (1.0 / 3.0) * 1e8  # Å
if a.cutoff >= box / 2:
    raise SystemExit(f"cutoff {a.cutoff} Å is not below half the box ({box / 2:.3f} Å)")
s = box / a.n
lines = [
    f"# {n_mol} rigid EFP2 waters, jittered {a.n}x{a.n}x{a.n} lattice, {box:.4f} Å periodic box ({a.density} g/cm3),",
    f"# random orientations (seed {a.seed}). Written by examples/fragmd/make_water_box.py; parameters: h2o_l (libefp fraglib).",
    "run_type md", "coord xyzabc", "terms elec pol disp xr", "elec_damp screen", "disp_damp tt", "pol_damp tt",
    "enable_pbc true", f"periodic_box {box:.4f} {box:.4f} {box:.4f}", "enable_cutoff true", f"swf_cutoff {a.cutoff}",
    f"ensemble {a.ensemble}", "temperature 298.0", "time_step 1.0", f"max_steps {a.max_steps}", "print_step 10",
    "velocitize true", f"thermostat_tau {a.thermostat_tau:g}",
]
if a.ensemble == "npt":
    lines.append(f"pressure {a.pressure:g}")
    if a.barostat_tau is not None:
        lines.append(f"barostat_tau {a.barostat_tau:g}")
if a.ewald:
    lines.append("ewald true")
lines.append("")
for i in range(a.n):
    for j in range(a.n):
        for k in range(a.n):
            x, y, z = [(c + 0.5) * s + random.uniform(-0.2, 0.2) for c in (i, j, k)]
            al, be, ga = random.uniform(0, 2 * math.pi), math.acos(random.uniform(-1, 1)), random.uniform(0, 2 * math.pi)
            lines += ["fragment h2o_l", f"  {x:8.3f} {y:8.3f} {z:8.3f} {al:8.4f} {be:8.4f} {ga:8.4f}"]
with open(a.output, "w") as f:
    f.write("\n".join(lines) + "\n")
