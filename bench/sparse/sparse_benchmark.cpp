// Benchmarks of the sparse module: MCP path + K-fold CV, lasso path at a given tolerance, exhaustive search.
//
//   tsunagu_bench_sparse [--data=DIR] [--dump=OUTDIR] [Google Benchmark flags...]
//
// --data=DIR (or $TSUNAGU_BENCH_DATA) reads DIR/manifest.json, written by bench/sparse/run_sparse_bench.py, so that
// tsunagu, glmnet, scikit-learn and skglm see bit-identical problems: X is raw little-endian float64 in column-major
// order (n*p values), y raw float64 (n values); the manifest gives n, p, the λ path, CV folds, the tolerances to
// benchmark and the thread counts. Without --data a built-in deterministic set of problems with the same shapes is
// generated (handy for quick runs; the peers are then not comparable).
//
// --dump=OUTDIR fits every problem once per tolerance and writes the standardised-scale coefficient paths (and
// the exhaustive search's CV errors) plus OUTDIR/tsunagu_dump.json, then exits without benchmarking; the driver uses
// this to measure accuracy against a tightly converged reference.
//
// Benchmarks (names carry the parameters):
//   BM_LassoPath/<n>/<p>/eps:<eps>                 fit_path, lasso, the manifest's λ path (100 values)
//   BM_McpPath/<n>/<p>/eps:<eps>                   fit_path, MCP (γ = 3), full data only (for a breakdown)
//   BM_McpPathCv/<n>/<p>/eps:<eps>/threads:<t>     cross_validate: full-data MCP path + K fold paths
//   BM_Exhaustive/<n>/<p>/k:<k>/folds:<F>/threads:<t>  exhaustive_search; counter fits_per_s (subset-fold fits/s)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <numbers>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "tsunagu/core/progress.hpp"
#include "tsunagu/sparse/cv.hpp"
#include "tsunagu/sparse/exhaustive.hpp"
#include "tsunagu/sparse/penalized.hpp"

namespace {

namespace fs = std::filesystem;
namespace sp = tsunagu::sparse;
using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using json = nlohmann::json;

struct Problem {
  std::string name, kind;  // kind: "lasso", "mcp", "exhaustive"
  Index n = 0, p = 0;
  MatrixXd X;
  VectorXd y;
  std::vector<double> lambda;   // empty = automatic path
  double gamma = 3;
  std::vector<double> eps;      // tolerances to benchmark
  double ref_eps = 0;           // extra tolerance fitted in --dump mode only (0 = none)
  std::vector<int> fold_ids;    // empty = random folds
  int folds = 10;
  int max_k = 4;
  std::vector<unsigned> threads{1};
};

std::vector<double> read_f64(const fs::path& file, std::size_t count) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + file.string());
  std::vector<double> v(count);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(double)));
  if (static_cast<std::size_t>(in.gcount()) != count * sizeof(double))
    throw std::runtime_error(file.string() + ": expected " + std::to_string(count) + " float64 values");
  in.peek();
  if (!in.eof()) throw std::runtime_error(file.string() + ": more than " + std::to_string(count) + " values");
  return v;
}

void write_f64(const fs::path& file, const double* data, std::size_t count) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(double)));
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::vector<std::shared_ptr<Problem>> load_manifest(const fs::path& dir) {
  std::ifstream in(dir / "manifest.json");
  if (!in) throw std::runtime_error("cannot open " + (dir / "manifest.json").string());
  const json m = json::parse(in);
  std::vector<std::shared_ptr<Problem>> out;
  for (const auto& j : m.at("problems")) {
    auto pr = std::make_shared<Problem>();
    pr->name = j.at("name").get<std::string>();
    pr->kind = j.at("kind").get<std::string>();
    pr->n = j.at("n").get<Index>();
    pr->p = j.at("p").get<Index>();
    const auto xs = read_f64(dir / j.at("X").get<std::string>(), static_cast<std::size_t>(pr->n * pr->p));
    pr->X = Eigen::Map<const MatrixXd>(xs.data(), pr->n, pr->p);
    const auto ys = read_f64(dir / j.at("y").get<std::string>(), static_cast<std::size_t>(pr->n));
    pr->y = Eigen::Map<const VectorXd>(ys.data(), pr->n);
    if (j.contains("lambda")) pr->lambda = j["lambda"].get<std::vector<double>>();
    if (j.contains("gamma")) pr->gamma = j["gamma"].get<double>();
    if (j.contains("eps")) pr->eps = j["eps"].get<std::vector<double>>();
    if (j.contains("ref_eps")) pr->ref_eps = j["ref_eps"].get<double>();
    if (j.contains("fold_ids")) pr->fold_ids = j["fold_ids"].get<std::vector<int>>();
    if (j.contains("folds")) pr->folds = j["folds"].get<int>();
    if (j.contains("max_k")) pr->max_k = j["max_k"].get<int>();
    if (j.contains("threads")) pr->threads = j["threads"].get<std::vector<unsigned>>();
    out.push_back(pr);
  }
  return out;
}

// Built-in problems (no --data): AR(1)-correlated Gaussian columns (ρ = 0.5) with varied means and scales, a sparse
// β, Gaussian noise. A splitmix64 + Box–Muller generator keeps them identical across standard libraries.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  double normal() { return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * std::numbers::pi * uniform()); }
};

std::shared_ptr<Problem> builtin(const std::string& name, const std::string& kind, Index n, Index p, int s,
                                 std::uint64_t seed) {
  auto pr = std::make_shared<Problem>();
  pr->name = name;
  pr->kind = kind;
  pr->n = n;
  pr->p = p;
  Rng rng{seed};
  pr->X.resize(n, p);
  const double rho = 0.5, c = std::sqrt(1 - rho * rho);
  for (Index i = 0; i < n; ++i) {
    double prev = rng.normal();
    pr->X(i, 0) = prev;
    for (Index j = 1; j < p; ++j) pr->X(i, j) = prev = rho * prev + c * rng.normal();
  }
  for (Index j = 0; j < p; ++j) pr->X.col(j) = pr->X.col(j).array() * (0.5 + 2 * rng.uniform()) + 3 * rng.normal();
  VectorXd beta = VectorXd::Zero(p);
  for (int k = 0; k < s; ++k) {
    const Index j = static_cast<Index>(rng.next() % static_cast<std::uint64_t>(p));
    beta(j) = (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + 1.5 * rng.uniform());
  }
  pr->y = pr->X * beta;
  const double sd = std::sqrt((pr->y.array() - pr->y.mean()).square().mean());
  for (Index i = 0; i < n; ++i) pr->y(i) += 0.5 * sd * rng.normal() + 10;
  pr->eps = {1e-4, 1e-6};
  pr->threads = {1, 2};
  if (kind == "exhaustive") pr->folds = 5;
  return pr;
}

std::vector<std::shared_ptr<Problem>> builtin_problems() {
  return {builtin("mcp_100x1000", "mcp", 100, 1000, 10, 1), builtin("mcp_1000x100", "mcp", 1000, 100, 10, 2),
          builtin("lasso_100x1000", "lasso", 100, 1000, 10, 3),
          builtin("lasso_1000x100", "lasso", 1000, 100, 10, 4),
          builtin("exh_100x30", "exhaustive", 100, 30, 4, 5)};
}

std::string eps_str(double e) {
  std::ostringstream os;
  os << e;
  return os.str();
}

sp::PathOptions path_options(const Problem& pr, double eps) {
  sp::PathOptions o;
  o.penalty = pr.kind == "lasso" ? sp::Penalty::Lasso : sp::Penalty::MCP;
  o.gamma = pr.gamma;
  o.lambda = pr.lambda;
  o.nlambda = 100;
  o.eps = eps;
  o.max_iter = 1000000;  // the comparison is at equal accuracy; do not let the sweep budget truncate a path
  o.warn = false;
  return o;
}

sp::CvOptions cv_options(const Problem& pr, unsigned threads) {
  sp::CvOptions cv;
  cv.folds = pr.folds;
  cv.fold_ids = pr.fold_ids;
  cv.threads = threads;
  cv.progress = false;
  return cv;
}

sp::ExhaustiveOptions exhaustive_options(const Problem& pr, unsigned threads) {
  sp::ExhaustiveOptions o;
  o.max_k = pr.max_k;
  o.folds = pr.folds;
  o.fold_ids = pr.fold_ids;
  o.threads = threads;
  o.time_limit = 1e9;
  o.progress = false;
  return o;
}

void set_path_counters(benchmark::State& state, const sp::Path& path) {
  state.counters["sweeps"] = std::accumulate(path.iterations.begin(), path.iterations.end(), 0.0);
  state.counters["n_lambda"] = static_cast<double>(path.n_lambda());
  state.counters["converged"] = path.status == "converged" ? 1 : 0;
}

void register_benchmarks(const std::vector<std::shared_ptr<Problem>>& problems) {
  for (const auto& pr : problems) {
    const std::string np = std::to_string(pr->n) + "/" + std::to_string(pr->p);
    if (pr->kind == "lasso") {
      for (double e : pr->eps)
        benchmark::RegisterBenchmark(("BM_LassoPath/" + np + "/eps:" + eps_str(e)).c_str(),
                                     [pr, e](benchmark::State& state) {
                                       const auto o = path_options(*pr, e);
                                       sp::Path path;
                                       for (auto _ : state) {
                                         path = sp::fit_path(pr->X, pr->y, o);
                                         benchmark::DoNotOptimize(path.beta.data());
                                       }
                                       set_path_counters(state, path);
                                     })
            ->Unit(benchmark::kMillisecond);
    } else if (pr->kind == "mcp") {
      for (double e : pr->eps) {
        benchmark::RegisterBenchmark(("BM_McpPath/" + np + "/eps:" + eps_str(e)).c_str(),
                                     [pr, e](benchmark::State& state) {
                                       const auto o = path_options(*pr, e);
                                       sp::Path path;
                                       for (auto _ : state) {
                                         path = sp::fit_path(pr->X, pr->y, o);
                                         benchmark::DoNotOptimize(path.beta.data());
                                       }
                                       set_path_counters(state, path);
                                     })
            ->Unit(benchmark::kMillisecond);
        for (unsigned t : pr->threads)
          benchmark::RegisterBenchmark(
              ("BM_McpPathCv/" + np + "/eps:" + eps_str(e) + "/threads:" + std::to_string(t)).c_str(),
              [pr, e, t](benchmark::State& state) {
                const auto o = path_options(*pr, e);
                const auto cv = cv_options(*pr, t);
                sp::CvResult r;
                for (auto _ : state) {
                  r = sp::cross_validate(pr->X, pr->y, o, cv);
                  benchmark::DoNotOptimize(r.mean.data());
                }
                state.counters["n_lambda"] = static_cast<double>(r.lambda.size());
                state.counters["folds"] = r.folds;
              })
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
      }
    } else if (pr->kind == "exhaustive") {
      for (unsigned t : pr->threads)
        benchmark::RegisterBenchmark(("BM_Exhaustive/" + np + "/k:" + std::to_string(pr->max_k) + "/folds:" +
                                      std::to_string(pr->folds) + "/threads:" + std::to_string(t))
                                         .c_str(),
                                     [pr, t](benchmark::State& state) {
                                       const auto o = exhaustive_options(*pr, t);
                                       sp::ExhaustiveResult r;
                                       double inner = 0;
                                       for (auto _ : state) {
                                         r = sp::exhaustive_search(pr->X, pr->y, o);
                                         inner += r.seconds;
                                         benchmark::DoNotOptimize(r.all_cv_errors.data());
                                       }
                                       const double fits =
                                           static_cast<double>(r.n_subsets - r.n_rank_deficient) * r.folds;
                                       state.counters["fits_per_s"] =
                                           benchmark::Counter(fits, benchmark::Counter::kIsIterationInvariantRate);
                                       // The library's own timer (search only: no input checks, no top-model refits).
                                       state.counters["search_fits_per_s"] =
                                           inner > 0 ? fits * static_cast<double>(state.iterations()) / inner : 0;
                                       state.counters["subsets"] = static_cast<double>(r.n_subsets);
                                     })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    } else {
      throw std::runtime_error("problem " + pr->name + ": unknown kind '" + pr->kind + "'");
    }
  }
}

json dump_path(const fs::path& out, const Problem& pr, double eps, const std::string& tag) {
  const auto o = path_options(pr, eps);
  const sp::Path path = sp::fit_path(pr.X, pr.y, o);
  const std::string file = pr.name + ".tsunagu." + tag + ".beta.f64";
  write_f64(out / file, path.beta_std.data(), static_cast<std::size_t>(path.beta_std.size()));
  json j{{"eps", eps},
         {"beta_std", file},
         {"n_lambda", path.n_lambda()},
         {"status", path.status},
         {"sweeps", std::accumulate(path.iterations.begin(), path.iterations.end(), 0)},
         {"max_kkt", sp::kkt_violation(path, pr.X, pr.y).maxCoeff()}};
  if (pr.kind == "mcp") {
    const sp::CvResult r = sp::cross_validate(pr.X, pr.y, o, cv_options(pr, 1), &path);
    j["cv_mean"] = std::vector<double>(r.mean.data(), r.mean.data() + r.mean.size());
    j["cv_index_min"] = r.index_min;
  }
  return j;
}

void dump(const fs::path& out, const std::vector<std::shared_ptr<Problem>>& problems) {
  fs::create_directories(out);
  json result = json::object();
  for (const auto& pr : problems) {
    json entry;
    if (pr->kind == "lasso" || pr->kind == "mcp") {
      json fits = json::array();
      for (std::size_t i = 0; i < pr->eps.size(); ++i)
        fits.push_back(dump_path(out, *pr, pr->eps[i], "eps" + std::to_string(i)));
      entry["fits"] = fits;
      if (pr->ref_eps > 0) entry["reference"] = dump_path(out, *pr, pr->ref_eps, "ref");
    } else if (pr->kind == "exhaustive") {
      const auto r = sp::exhaustive_search(pr->X, pr->y, exhaustive_options(*pr, pr->threads.back()));
      const std::string file = pr->name + ".tsunagu.cv_rmse.f64";
      write_f64(out / file, r.all_cv_errors.data(), r.all_cv_errors.size());
      json top = json::array();
      for (const auto& m : r.models) top.push_back({{"features", m.features}, {"cv_error", m.cv_error}});
      entry = {{"cv_rmse", file},
               {"n_subsets", r.n_subsets},
               {"n_rank_deficient", r.n_rank_deficient},
               {"folds", r.folds},
               {"fold_ids", r.fold_ids},
               {"top", top}};
    }
    result[pr->name] = entry;
  }
  std::ofstream(out / "tsunagu_dump.json") << result.dump(1) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir, dump_dir;
  if (const char* e = std::getenv("TSUNAGU_BENCH_DATA")) data_dir = e;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--data=", 0) == 0) data_dir = a.substr(7);
    else if (a.rfind("--dump=", 0) == 0) dump_dir = a.substr(7);
    else args.push_back(argv[i]);
  }
  tsunagu::core::set_progress_enabled(false);
  std::vector<std::shared_ptr<Problem>> problems;
  try {
    problems = data_dir.empty() ? builtin_problems() : load_manifest(data_dir);
    if (!dump_dir.empty()) {
      dump(dump_dir, problems);
      return 0;
    }
    register_benchmarks(problems);
  } catch (const std::exception& e) {
    std::cerr << "tsunagu_bench_sparse: " << e.what() << "\n";
    return 1;
  }
  int nargs = static_cast<int>(args.size());
  benchmark::Initialize(&nargs, args.data());
  if (benchmark::ReportUnrecognizedArguments(nargs, args.data())) return 1;
  benchmark::AddCustomContext("data", data_dir.empty() ? "built-in problems" : data_dir);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
