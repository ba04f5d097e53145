// Benchmarks of tsunagu::fragmd (issue 8): the EFP2 energy + analytic gradient of libefp's water benchmarks.
// Timings are reported, never asserted; bench/fragmd/run_fragmd_bench.py runs this program and writes bench/RESULTS.md.
//
//   tsunagu_bench_fragmd --cases=../shared/data/efp/cases [--benchmark_filter=...]
//
// BM_Gradient/<case>/threads:<t>: fragmd::compute with gradient on the input as libefp's efpmd reads it
//   (benchmark_water-125-grad: 125 waters on a 3 Å grid, all four terms, screen/tt damping, no cutoff); the input is
//   parsed and the fragments placed once, outside the timed loop.
// BM_Energy/<case>/threads:<t>: the same without the gradient.
// BM_Term/<term>/threads:1: one term alone (elec, pol, disp, xr) on the 125-water box, gradient included.
// BM_GradientCutoff/<n>/threads:<t>: n waters at liquid density in a periodic box with a 9 Å switching cutoff
//   (generated here, seeded): the scaling with system size at fixed density.
// BM_GradientCutoffEwald/<n>/threads:<t>: the same with the charge–charge terms Ewald-summed (System::ewald, default
//   tolerance 1e-6): the difference to BM_GradientCutoff is the cost of the Ewald sum.
#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/energy.hpp"
#include "tsunagu/fragmd/input.hpp"
#include "tsunagu/fragmd/units.hpp"

namespace {

namespace fs = std::filesystem;
using namespace tsunagu;
using namespace tsunagu::fragmd;

std::string g_cases = "../shared/data/efp/cases";

InputFile load(const std::string& name) {
  InputOptions o;
  o.fraglib = (fs::path(g_cases) / ".." / "fraglib").string();
  return read_input((fs::path(g_cases) / (name + ".in")).string(), o);
}

void run(benchmark::State& state, const System& sys, bool gradient, unsigned threads) {
  ComputeOptions o;
  o.gradient = gradient;
  o.threads = threads;
  double e = 0;
  for (auto _ : state) {
    ComputeResult r = compute(sys, o);
    e = r.energy.total();
    benchmark::DoNotOptimize(e);
  }
  state.counters["energy_hartree"] = e;
  state.counters["fragments"] = static_cast<double>(sys.fragments.size());
}

const InputFile& cached(const std::string& name) {
  static std::map<std::string, InputFile> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, load(name)).first;
  return it->second;
}

void BM_Gradient(benchmark::State& state, const std::string& name, unsigned threads) {
  run(state, cached(name).system, true, threads);
}
void BM_Energy(benchmark::State& state, const std::string& name, unsigned threads) {
  run(state, cached(name).system, false, threads);
}
void BM_Term(benchmark::State& state, const std::string& term) {
  System s = cached("benchmark_water-125-grad").system;
  s.terms = Terms{term == "elec" || term == "pol", term == "pol", term == "disp", term == "xr"};
  run(state, s, true, 1);
  if (term == "pol") state.SetLabel("elec+pol (pol needs the multipole fields)");
}

/// n waters (n = k³) on a jittered lattice at 0.997 g/cm³, random orientations, periodic, 9 Å cutoff.
void BM_GradientCutoff(benchmark::State& state, int n, unsigned threads, bool ewald) {
  const int k = static_cast<int>(std::lround(std::cbrt(static_cast<double>(n))));
  const InputFile& base = cached("benchmark_water-125-grad");  // for the h2o_l fragment type
  System s;
  s.types = base.system.types;
  const FragmentType& w = *base.system.fragments.front().type;
  const double box = std::cbrt(k * k * k * 18.01528 / 6.02214076e23 / 0.997) * 1e8 / kBohrAngstrom;  // bohr
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j)
      for (int l = 0; l < k; ++l) {
        Eigen::Vector3d c((i + 0.5 + 0.1 * (u(rng) - 0.5)) * box / k, (j + 0.5 + 0.1 * (u(rng) - 0.5)) * box / k,
                          (l + 0.5 + 0.1 * (u(rng) - 0.5)) * box / k);
        s.fragments.push_back(place(w, c, euler_to_matrix(2 * M_PI * u(rng), std::acos(2 * u(rng) - 1), 2 * M_PI * u(rng))));
      }
  s.periodic = true;
  s.box = Eigen::Vector3d::Constant(box);
  s.cutoff_enabled = true;
  s.cutoff = 9.0 / kBohrAngstrom;
  s.ewald = ewald;
  if (2 * s.cutoff > box) {
    state.SkipWithError("box smaller than twice the cutoff");
    return;
  }
  ComputeOptions o;
  o.gradient = true;
  o.threads = threads;
  ComputeResult r;
  for (auto _ : state) {
    r = compute(s, o);
    benchmark::DoNotOptimize(r.energy.total());
  }
  state.counters["fragments"] = static_cast<double>(s.fragments.size());
  if (ewald) state.counters["ewald_kvectors"] = r.ewald_kvectors;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--cases=", 0) == 0) g_cases = a.substr(8);
  }
  const std::string w125 = "benchmark_water-125-grad", w3375 = "benchmark_water-3375-grad";
  for (unsigned t : {1u, 2u}) {
    benchmark::RegisterBenchmark(("BM_Gradient/water-125/threads:" + std::to_string(t)).c_str(), BM_Gradient, w125, t)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
    benchmark::RegisterBenchmark(("BM_Energy/water-125/threads:" + std::to_string(t)).c_str(), BM_Energy, w125, t)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
  }
  for (const char* term : {"elec", "pol", "disp", "xr"})
    benchmark::RegisterBenchmark((std::string("BM_Term/") + term + "/threads:1").c_str(), BM_Term, std::string(term))
        ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
  for (unsigned t : {1u, 2u})
    for (int n : {216, 512, 1000, 3375})
      benchmark::RegisterBenchmark(("BM_GradientCutoff/" + std::to_string(n) + "/threads:" + std::to_string(t)).c_str(),
                                   BM_GradientCutoff, n, t, false)
          ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(n >= 1000 ? 1 : 3);
  for (int n : {216, 1000, 3375})
    benchmark::RegisterBenchmark(("BM_GradientCutoffEwald/" + std::to_string(n) + "/threads:2").c_str(),
                                 BM_GradientCutoff, n, 2u, true)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(n >= 1000 ? 1 : 3);
  for (unsigned t : {1u, 2u})
    benchmark::RegisterBenchmark(("BM_Gradient/water-3375/threads:" + std::to_string(t)).c_str(), BM_Gradient, w3375, t)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
