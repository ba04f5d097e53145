#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a working tsunagu:
#   1. Debian packages (compiler, CMake, Eigen, HDF5, nlohmann-json, CLI11, libcerf, libpng, OpenMPI, GoogleTest,
#      Google Benchmark, R glmnet)
#   2. a Python virtual environment in .venv with numpy, scikit-learn, pandas, pytest, scikit-build-core, pybind11,
#      and the reference tools the tests compare against (scipy, lmfit, h5py)
#   3. Release build of the C++ library, CLI and tests (build/release), installed to $PREFIX (default /usr/local)
#   4. `pip install .` of the Python package (pybind11 extension built by scikit-build-core from the same CMake),
#      which also puts the `tsunagu` CLI into .venv/bin
#   5. the demo: sparse modelling of the bundled exfoliation data -> formula on stdout, plots in out/demo/
# Environment: PREFIX (install prefix), SKIP_APT=1 (packages already present), TSUNAGU_DEMO=0 (skip the demo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PREFIX=${PREFIX:-/usr/local}
JOBS=${JOBS:-$(nproc)}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ "${SKIP_APT:-0}" != "1" ]; then
  echo "== installing Debian packages" >&2
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    build-essential cmake ninja-build pkg-config \
    libeigen3-dev libhdf5-dev nlohmann-json3-dev libcli11-dev libcerf-dev libpng-dev libopenmpi-dev openmpi-bin \
    libsqlite3-dev libtomlplusplus-dev liblbfgspp-dev libcpp-httplib-dev libjs-chart.js chromium chromium-driver \
    libsymspg-dev quantum-espresso libtorch-dev python3-torch librdkit-dev python3-rdkit libboost-dev \
    libgtest-dev libgmock-dev libbenchmark-dev \
    python3 python3-dev python3-venv python3-pip \
    r-base-core r-cran-glmnet librsvg2-bin >/dev/null
fi

echo "== Python environment (.venv)" >&2
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "numpy>=1.23" "scikit-learn>=1.2" "pytest>=7" "pandas>=1.5" "scikit-build-core>=0.8" "pybind11>=2.11" \
  "scipy>=1.10" "lmfit>=1.2" "h5py>=3.8" \
  "selenium>=4.10" "physbo>=2.0" "scikit-optimize>=0.10" "ase>=3.22" "spglib>=2.0"

echo "== C++ build (Release) and install to $PREFIX" >&2
cmake --preset release >/dev/null
cmake --build --preset release -j "$JOBS"
$SUDO cmake --install build/release --prefix "$PREFIX" >/dev/null

echo "== Python package (pip install .)" >&2
.venv/bin/python -m pip install -q --no-build-isolation .

if [ "${TSUNAGU_DEMO:-1}" != "0" ]; then
  echo "== demo: which solvent descriptors explain MoS2 exfoliation yield?" >&2
  mkdir -p out/demo
  T=.venv/bin/tsunagu
  $T --version
  $T sparse fit examples/sparse/exfoliation.csv --target yield --exclude solvent_a,solvent_b \
     --seed 1 -o out/demo/model.json --plot-prefix out/demo/mcp
  $T sparse screen out/demo/model.json examples/sparse/candidates.csv --top 5 -o out/demo/ranked_candidates.csv
  head -6 out/demo/ranked_candidates.csv | cut -d, -f1-4,15
  $T sparse exhaustive examples/sparse/exfoliation.csv --target yield --exclude solvent_a,solvent_b \
     --max-k 3 -o out/demo/exhaustive.json --plot out/demo/weight_diagram.svg --dos-plot out/demo/dos.svg
  echo "== demo: maps of a graphene C 1s datacube (synthetic, known answer) by intensity-weighted EM" >&2
  .venv/bin/python examples/spectra/make_cube.py out/demo/graphene_c1s_cube.h5
  $T spectra batch out/demo/graphene_c1s_cube.h5 --spectra spectra --energy energy --peaks-at 284.4,286.3,288.8 \
     --method em --background shirley --restart -o out/demo/maps.h5 \
     --map peak1/fraction:out/demo/sp2_fraction.png --map peak1/center:out/demo/c1s_center.png
  if [ -f ../shared/data/xps/PET_C1s.csv ]; then
    echo "== demo: C 1s of PET (real spectrum): C-C/C-H, C-O and O-C=O carbons" >&2
    $T spectra fit ../shared/data/xps/PET_C1s.csv --region 280.5:292 --peaks-at 285,286.5,289 --shape pvoigt \
       --background shirley -o out/demo/pet_fit.json --plot out/demo/pet_fit.svg
  fi
  echo "== demo: autonomous campaign minimising the resistivity of Nb:TiO2 films (simulated sputter robot)" >&2
  rm -f out/demo/lab.sqlite out/demo/lab.sqlite-wal out/demo/lab.sqlite-shm
  $T campaign init examples/campaign/sputter.toml --db out/demo/lab.sqlite
  $T -q campaign run --db out/demo/lab.sqlite --adapter "command:.venv/bin/python examples/campaign/sputter_robot.py --seed 1"
  $T campaign status --db out/demo/lab.sqlite --plot out/demo/campaign_best.svg | tail -1
  $T campaign export --db out/demo/lab.sqlite -o out/demo/campaign_results.csv
  echo "== demo: all q=0 magnetic structures of Mn3GaN by cluster multipoles, with DFT inputs" >&2
  $T magnetic generate examples/magnetic/Mn3GaN.cif --magnetic-atoms Mn -o out/demo/Mn3GaN_basis.json \
     --svg out/demo/Mn3GaN_basis.svg --vasp out/demo/Mn3GaN_vasp --mcif out/demo/Mn3GaN_mcif | sed -n 1,3p
  echo "demo outputs: $(ls out/demo | tr '\n' ' ')" >&2
fi
