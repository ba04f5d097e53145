// Options, scalers, input validation, the Eigen reference forward pass and the JSON/CBOR model format. LibTorch is
// confined to torch_backend.cpp; this file sees it only through the Eigen interface of torch_backend.hpp.
#include "tsunagu/nn/mlp.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "torch_backend.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/random.hpp"

namespace tsunagu::nn {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::RowVectorXd;
using Eigen::VectorXd;
using json = nlohmann::json;

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

template <class E>
E parse_enum(std::string_view what, std::string_view name, std::initializer_list<std::pair<const char*, E>> table) {
  std::string known;
  for (const auto& [n, e] : table) {
    if (name == n) return e;
    if (!known.empty()) known += "|";
    known += n;
  }
  throw InvalidArgument(std::string(what) + ": unknown value '" + std::string(name) + "' (expected " + known + ")");
}

// ---- option JSON -------------------------------------------------------------------------------------------------

const std::vector<std::string>& option_keys() {
  static const std::vector<std::string> keys = {
      "hidden",   "activation", "dropout",    "weight_decay", "learning_rate",       "schedule",       "lr_factor",
      "lr_patience", "lr_step", "epochs",     "batch_size",   "patience",            "validation_fraction",
      "scale_features", "scale_targets", "clip_inputs", "task", "seed", "device",       "threads",        "progress"};
  return keys;
}

[[noreturn]] void option_type_error(const std::string& key, const char* expected, const json& v) {
  throw InvalidArgument("option '" + key + "': expected " + expected + ", got " + v.dump());
}

double opt_double(const json& v, const std::string& key) {
  if (!v.is_number()) option_type_error(key, "a number", v);
  return v.get<double>();
}

std::int64_t opt_int(const json& v, const std::string& key) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) option_type_error(key, "an int", v);
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {  // 3.0 from a language without integers
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) <= std::numeric_limits<int>::max())
      return static_cast<std::int64_t>(d);
  }
  option_type_error(key, "an integer", v);
}

int opt_int32(const json& v, const std::string& key) {
  const std::int64_t i = opt_int(v, key);
  if (i < std::numeric_limits<int>::min() || i > std::numeric_limits<int>::max()) option_type_error(key, "an int", v);
  return static_cast<int>(i);
}

bool opt_bool(const json& v, const std::string& key) {
  if (!v.is_boolean()) option_type_error(key, "true or false", v);
  return v.get<bool>();
}

std::string opt_string(const json& v, const std::string& key) {
  if (!v.is_string()) option_type_error(key, "a string", v);
  return v.get<std::string>();
}

// ---- input validation --------------------------------------------------------------------------------------------

void require_finite(const MatrixXd& M, const char* name) {
  for (Index j = 0; j < M.cols(); ++j)
    for (Index i = 0; i < M.rows(); ++i)
      if (!std::isfinite(M(i, j)))
        throw InvalidArgument(std::string(name) + ": non-finite value " + fmt(M(i, j)) + " at row " +
                              std::to_string(i) + ", column " + std::to_string(j));
}

void require_binary(const MatrixXd& Y, const char* name) {
  if (Y.cols() != 1)
    throw InvalidArgument(std::string("task binary: ") + name + " must have 1 column (labels 0/1), got " +
                          std::to_string(Y.cols()));
  for (Index i = 0; i < Y.rows(); ++i)
    if (Y(i, 0) != 0.0 && Y(i, 0) != 1.0)
      throw InvalidArgument(std::string("task binary: ") + name + " has value " + fmt(Y(i, 0)) + " at row " +
                            std::to_string(i) + "; targets must be 0 or 1");
}

Scaler identity_scaler(Index n) { return Scaler{RowVectorXd::Zero(n), RowVectorXd::Ones(n)}; }

// Population mean/SD per column; a column constant up to rounding gets scale 1 (it is only centred).
Scaler fit_scaler(const MatrixXd& M) {
  Scaler s;
  const double n = static_cast<double>(M.rows());
  s.mean = M.colwise().mean();
  s.scale.resize(M.cols());
  for (Index j = 0; j < M.cols(); ++j) {
    const double sd = std::sqrt((M.col(j).array() - s.mean(j)).square().sum() / n);
    s.scale(j) = sd > 1e-12 * std::max(1.0, std::abs(s.mean(j))) ? sd : 1.0;
  }
  return s;
}

MatrixXd rows_of(const MatrixXd& M, const std::vector<Index>& rows) { return M(rows, Eigen::all); }

// ---- reference forward pass ----------------------------------------------------------------------------------------

void activate(MatrixXd& Z, Activation a) {
  auto z = Z.array();
  switch (a) {
    case Activation::Relu: z = z.max(0.0); return;
    case Activation::Tanh: z = z.tanh(); return;
    case Activation::Sigmoid: z = 1.0 / (1.0 + (-z).exp()); return;
    case Activation::Silu: z = z / (1.0 + (-z).exp()); return;
    case Activation::Gelu:  // exact GELU (torch's default, approximate='none')
      z = z.unaryExpr([](double v) { return 0.5 * v * (1.0 + std::erf(v * M_SQRT1_2)); });
      return;
    case Activation::LeakyRelu: z = (z > 0.0).select(z, 0.01 * z); return;      // torch's slope 0.01
  }
}

// ---- model JSON --------------------------------------------------------------------------------------------------

constexpr const char* kFormat = "tsunagu-mlp";
constexpr int kVersion = 1;

[[noreturn]] void bad(const std::string& src, const std::string& field, const std::string& msg) {
  throw ParseError(src, 0, "", "field '" + field + "': " + msg);
}

// Refuse unknown keys and require `required` (ParseError naming them).
void check_keys(const json& j, const std::string& src, const std::string& where,
                std::initializer_list<const char*> required, std::initializer_list<const char*> optional = {}) {
  if (!j.is_object()) bad(src, where.empty() ? "(top level)" : where, "expected an object");
  const std::string prefix = where.empty() ? "" : where + ".";
  for (const char* k : required)
    if (!j.contains(k)) throw ParseError(src, 0, "", "missing field '" + prefix + k + "'");
  for (const auto& item : j.items()) {
    bool known = false;
    for (const char* k : required) known = known || item.key() == k;
    for (const char* k : optional) known = known || item.key() == k;
    if (!known) throw ParseError(src, 0, "", "unknown field '" + prefix + item.key() + "'");
  }
}

double get_number(const json& v, const std::string& src, const std::string& field, bool null_is_nan = false) {
  if (null_is_nan && v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!v.is_number()) bad(src, field, "expected a number, got " + v.dump().substr(0, 40));
  return v.get<double>();
}

std::int64_t get_integer(const json& v, const std::string& src, const std::string& field) {
  if (!v.is_number_integer()) bad(src, field, "expected an integer, got " + v.dump().substr(0, 40));
  return v.get<std::int64_t>();
}

std::vector<double> get_numbers(const json& v, const std::string& src, const std::string& field,
                                bool null_is_nan = false) {
  if (!v.is_array()) bad(src, field, "expected an array of numbers");
  std::vector<double> out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    out.push_back(get_number(v[i], src, field + "[" + std::to_string(i) + "]", null_is_nan));
  return out;
}

RowVectorXd get_finite_row(const json& v, const std::string& src, const std::string& field) {
  const auto x = get_numbers(v, src, field);
  RowVectorXd r(static_cast<Index>(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) bad(src, field, "non-finite value at index " + std::to_string(i));
    r(static_cast<Index>(i)) = x[i];
  }
  return r;
}

Scaler get_scaler(const json& j, const std::string& src, const std::string& field) {
  check_keys(j, src, field, {"mean", "scale"});
  Scaler s{get_finite_row(j["mean"], src, field + ".mean"), get_finite_row(j["scale"], src, field + ".scale")};
  if (s.mean.size() != s.scale.size()) bad(src, field, "'mean' and 'scale' differ in length");
  for (Index i = 0; i < s.scale.size(); ++i)
    if (!(s.scale(i) > 0)) bad(src, field + ".scale", "values must be > 0");
  return s;
}

// Training input range; null stands for an unbounded side (a hand-assembled network has none).
json range_values(const RowVectorXd& r) {
  json a = json::array();
  for (Index i = 0; i < r.size(); ++i) a.push_back(std::isfinite(r(i)) ? json(r(i)) : json(nullptr));
  return a;
}

RowVectorXd get_range_row(const json& v, const std::string& src, const std::string& field, double unbounded) {
  if (!v.is_array()) bad(src, field, "expected an array of numbers");
  RowVectorXd r(static_cast<Index>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i].is_null()) {
      r(static_cast<Index>(i)) = unbounded;
    } else if (v[i].is_number() && std::isfinite(v[i].get<double>())) {
      r(static_cast<Index>(i)) = v[i].get<double>();
    } else {
      bad(src, field, "value at index " + std::to_string(i) + " is not a finite number or null");
    }
  }
  return r;
}

json scaler_json(const Scaler& s) {
  return json{{"mean", std::vector<double>(s.mean.data(), s.mean.data() + s.mean.size())},
              {"scale", std::vector<double>(s.scale.data(), s.scale.data() + s.scale.size())}};
}

json history_json(const TrainHistory& h) {
  return json{{"train_loss", h.train_loss}, {"val_loss", h.val_loss}, {"learning_rate", h.learning_rate},
              {"epochs_run", h.epochs_run},
              {"best_epoch", h.best_epoch}, {"early_stopped", h.early_stopped}, {"device", h.device},
              {"seconds", h.seconds},       {"samples_per_second", h.samples_per_second}, {"message", h.message}};
}

TrainHistory get_history(const json& j, const std::string& src) {
  check_keys(j, src, "history",
             {"train_loss", "val_loss", "learning_rate", "epochs_run", "best_epoch", "early_stopped", "device",
              "seconds", "samples_per_second", "message"});
  TrainHistory h;
  // JSON text has no NaN: a diverged loss is written as null and read back as NaN.
  h.train_loss = get_numbers(j["train_loss"], src, "history.train_loss", true);
  h.val_loss = get_numbers(j["val_loss"], src, "history.val_loss", true);
  h.learning_rate = get_numbers(j["learning_rate"], src, "history.learning_rate", true);
  h.epochs_run = static_cast<int>(get_integer(j["epochs_run"], src, "history.epochs_run"));
  h.best_epoch = static_cast<int>(get_integer(j["best_epoch"], src, "history.best_epoch"));
  if (!j["early_stopped"].is_boolean()) bad(src, "history.early_stopped", "expected true or false");
  h.early_stopped = j["early_stopped"].get<bool>();
  if (!j["device"].is_string()) bad(src, "history.device", "expected a string");
  h.device = j["device"].get<std::string>();
  h.seconds = get_number(j["seconds"], src, "history.seconds", true);
  h.samples_per_second = get_number(j["samples_per_second"], src, "history.samples_per_second", true);
  if (!j["message"].is_string()) bad(src, "history.message", "expected a string");
  h.message = j["message"].get<std::string>();
  return h;
}

}  // namespace

// ---- enums -------------------------------------------------------------------------------------------------------

Activation parse_activation(std::string_view name) {
  return parse_enum<Activation>("activation", name,
                                {{"relu", Activation::Relu},
                                 {"tanh", Activation::Tanh},
                                 {"sigmoid", Activation::Sigmoid},
                                 {"silu", Activation::Silu},
                                 {"gelu", Activation::Gelu},
                                 {"leaky_relu", Activation::LeakyRelu}});
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Relu: return "relu";
    case Activation::Tanh: return "tanh";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Silu: return "silu";
    case Activation::Gelu: return "gelu";
    case Activation::LeakyRelu: return "leaky_relu";
  }
  return "?";
}

Task parse_task(std::string_view name) {
  return parse_enum<Task>("task", name, {{"regression", Task::Regression}, {"binary", Task::Binary}});
}

const char* task_name(Task t) { return t == Task::Binary ? "binary" : "regression"; }

LrSchedule parse_lr_schedule(std::string_view name) {
  return parse_enum<LrSchedule>("schedule", name,
                                {{"constant", LrSchedule::Constant},
                                 {"step", LrSchedule::Step},
                                 {"cosine", LrSchedule::Cosine},
                                 {"plateau", LrSchedule::Plateau}});
}

const char* lr_schedule_name(LrSchedule s) {
  switch (s) {
    case LrSchedule::Constant: return "constant";
    case LrSchedule::Step: return "step";
    case LrSchedule::Cosine: return "cosine";
    case LrSchedule::Plateau: return "plateau";
  }
  return "?";
}

// ---- options -----------------------------------------------------------------------------------------------------

void MlpOptions::validate() const {
  auto fail = [](const std::string& field, const std::string& value, const std::string& rule) {
    throw InvalidArgument("option '" + field + "' = " + value + ": " + rule);
  };
  for (std::size_t l = 0; l < hidden.size(); ++l)
    if (hidden[l] < 1) fail("hidden[" + std::to_string(l) + "]", std::to_string(hidden[l]), "layer widths must be >= 1");
  if (!(dropout >= 0.0 && dropout < 1.0)) fail("dropout", fmt(dropout), "must be in [0, 1)");
  if (!(weight_decay >= 0.0 && std::isfinite(weight_decay))) fail("weight_decay", fmt(weight_decay), "must be >= 0");
  if (!(learning_rate > 0.0 && std::isfinite(learning_rate)))
    fail("learning_rate", fmt(learning_rate), "must be > 0");
  if (!(lr_factor > 0.0 && lr_factor <= 1.0)) fail("lr_factor", fmt(lr_factor), "must be in (0, 1]");
  if (lr_patience < 0) fail("lr_patience", std::to_string(lr_patience), "must be >= 0");
  if (lr_step < 1) fail("lr_step", std::to_string(lr_step), "must be >= 1");
  if (epochs < 1) fail("epochs", std::to_string(epochs), "must be >= 1");
  if (batch_size < 1) fail("batch_size", std::to_string(batch_size), "must be >= 1");
  if (patience < 0) fail("patience", std::to_string(patience), "must be >= 0 (0 = no early stopping)");
  if (!(validation_fraction >= 0.0 && validation_fraction < 0.9))
    fail("validation_fraction", fmt(validation_fraction), "must be in [0, 0.9)");
  if (device != "auto" && device != "cpu" && device != "cuda")
    fail("device", "'" + device + "'", "expected auto|cpu|cuda");
  if (threads < 0) fail("threads", std::to_string(threads), "must be >= 0 (0 = LibTorch's default)");
}

nlohmann::json MlpOptions::to_json() const {
  return json{{"hidden", hidden},
              {"activation", activation_name(activation)},
              {"dropout", dropout},
              {"weight_decay", weight_decay},
              {"learning_rate", learning_rate},
              {"schedule", lr_schedule_name(schedule)},
              {"lr_factor", lr_factor},
              {"lr_patience", lr_patience},
              {"lr_step", lr_step},
              {"epochs", epochs},
              {"batch_size", batch_size},
              {"patience", patience},
              {"validation_fraction", validation_fraction},
              {"scale_features", scale_features},
              {"scale_targets", scale_targets},
              {"clip_inputs", clip_inputs},
              {"task", task_name(task)},
              {"seed", seed},
              {"device", device},
              {"threads", threads},
              {"progress", progress}};
}

MlpOptions MlpOptions::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InvalidArgument("MLP options: expected a JSON object, got " + j.dump().substr(0, 40));
  std::vector<std::string> unknown;
  for (const auto& item : j.items())
    if (std::find(option_keys().begin(), option_keys().end(), item.key()) == option_keys().end())
      unknown.push_back(item.key());
  if (!unknown.empty()) {
    std::string list, known;
    for (const auto& k : unknown) list += (list.empty() ? "'" : ", '") + k + "'";
    for (const auto& k : option_keys()) known += (known.empty() ? "" : ", ") + k;
    throw InvalidArgument("MLP options: unknown option(s) " + list + " (known: " + known + ")");
  }
  MlpOptions o;  // missing keys keep their defaults
  for (const auto& item : j.items()) {
    const std::string& k = item.key();
    const json& v = item.value();
    if (k == "hidden") {
      if (!v.is_array()) option_type_error(k, "an array of layer widths", v);
      o.hidden.clear();
      for (std::size_t l = 0; l < v.size(); ++l) o.hidden.push_back(opt_int32(v[l], "hidden[" + std::to_string(l) + "]"));
    } else if (k == "activation") {
      o.activation = parse_activation(opt_string(v, k));
    } else if (k == "dropout") {
      o.dropout = opt_double(v, k);
    } else if (k == "weight_decay") {
      o.weight_decay = opt_double(v, k);
    } else if (k == "learning_rate") {
      o.learning_rate = opt_double(v, k);
    } else if (k == "schedule") {
      o.schedule = parse_lr_schedule(opt_string(v, k));
    } else if (k == "lr_factor") {
      o.lr_factor = opt_double(v, k);
    } else if (k == "lr_patience") {
      o.lr_patience = opt_int32(v, k);
    } else if (k == "lr_step") {
      o.lr_step = opt_int32(v, k);
    } else if (k == "epochs") {
      o.epochs = opt_int32(v, k);
    } else if (k == "batch_size") {
      o.batch_size = opt_int32(v, k);
    } else if (k == "patience") {
      o.patience = opt_int32(v, k);
    } else if (k == "validation_fraction") {
      o.validation_fraction = opt_double(v, k);
    } else if (k == "scale_features") {
      o.scale_features = opt_bool(v, k);
    } else if (k == "scale_targets") {
      o.scale_targets = opt_bool(v, k);
    } else if (k == "clip_inputs") {
      o.clip_inputs = opt_bool(v, k);
    } else if (k == "task") {
      o.task = parse_task(opt_string(v, k));
    } else if (k == "seed") {
      const std::int64_t s = v.is_number_unsigned() ? 0 : opt_int(v, k);
      if (s < 0) throw InvalidArgument("option 'seed' = " + v.dump() + ": must be >= 0");
      o.seed = v.is_number_unsigned() ? v.get<std::uint64_t>() : static_cast<std::uint64_t>(s);
    } else if (k == "device") {
      o.device = opt_string(v, k);
    } else if (k == "threads") {
      o.threads = opt_int32(v, k);
    } else if (k == "progress") {
      o.progress = opt_bool(v, k);
    }
  }
  o.validate();
  return o;
}

// ---- scaler ------------------------------------------------------------------------------------------------------

Eigen::MatrixXd Scaler::transform(const Eigen::MatrixXd& x) const {
  if (mean.size() == 0) return x;  // default-constructed: identity
  if (x.cols() != mean.size())
    throw InvalidArgument("Scaler: expected " + std::to_string(mean.size()) + " columns, got " +
                          std::to_string(x.cols()));
  return (x.rowwise() - mean).array().rowwise() / scale.array();
}

Eigen::MatrixXd Scaler::inverse(const Eigen::MatrixXd& x) const {
  if (mean.size() == 0) return x;
  if (x.cols() != mean.size())
    throw InvalidArgument("Scaler: expected " + std::to_string(mean.size()) + " columns, got " +
                          std::to_string(x.cols()));
  return (x.array().rowwise() * scale.array()).rowwise() + mean.array();
}

// ---- training ----------------------------------------------------------------------------------------------------

Mlp Mlp::fit(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, const MlpOptions& options,
             const Eigen::MatrixXd* X_val, const Eigen::MatrixXd* Y_val) {
  const auto t0 = std::chrono::steady_clock::now();
  options.validate();
  if (X.rows() != Y.rows())
    throw InvalidArgument("X has " + std::to_string(X.rows()) + " rows but Y has " + std::to_string(Y.rows()));
  if (X.rows() < 2) throw InvalidArgument("need at least 2 samples to train, got " + std::to_string(X.rows()));
  if (X.cols() < 1) throw InvalidArgument("X has no columns (features)");
  if (Y.cols() < 1) throw InvalidArgument("Y has no columns (targets)");
  require_finite(X, "X");
  require_finite(Y, "Y");
  if (options.task == Task::Binary) require_binary(Y, "Y");
  if ((X_val == nullptr) != (Y_val == nullptr))
    throw InvalidArgument("X_val and Y_val must be given together");
  if (X_val != nullptr) {
    if (X_val->cols() != X.cols())
      throw InvalidArgument("X_val: expected " + std::to_string(X.cols()) + " features, got " +
                            std::to_string(X_val->cols()));
    if (Y_val->cols() != Y.cols())
      throw InvalidArgument("Y_val: expected " + std::to_string(Y.cols()) + " targets, got " +
                            std::to_string(Y_val->cols()));
    if (X_val->rows() != Y_val->rows())
      throw InvalidArgument("X_val has " + std::to_string(X_val->rows()) + " rows but Y_val has " +
                            std::to_string(Y_val->rows()));
    if (X_val->rows() < 1) throw InvalidArgument("X_val has no rows");
    require_finite(*X_val, "X_val");
    require_finite(*Y_val, "Y_val");
    if (options.task == Task::Binary) require_binary(*Y_val, "Y_val");
  }

  // Validation split: a seeded permutation; its first n_val rows (in original order) are held out. The same
  // generator then shuffles the minibatches.
  core::Rng rng = core::make_rng(options.seed);
  MatrixXd Xtr, Ytr, Xv, Yv;
  if (X_val != nullptr) {
    Xtr = X;
    Ytr = Y;
    Xv = *X_val;
    Yv = *Y_val;
  } else if (options.validation_fraction > 0) {
    const Index n = X.rows();
    Index n_val = static_cast<Index>(std::llround(options.validation_fraction * static_cast<double>(n)));
    n_val = std::clamp<Index>(n_val, 1, n - 1);
    const auto perm = core::permutation(static_cast<std::size_t>(n), rng);
    std::vector<char> held(static_cast<std::size_t>(n), 0);
    for (Index i = 0; i < n_val; ++i) held[perm[static_cast<std::size_t>(i)]] = 1;
    std::vector<Index> tr, va;
    for (Index i = 0; i < n; ++i) (held[static_cast<std::size_t>(i)] ? va : tr).push_back(i);
    Xtr = rows_of(X, tr);
    Ytr = rows_of(Y, tr);
    Xv = rows_of(X, va);
    Yv = rows_of(Y, va);
  } else {
    Xtr = X;
    Ytr = Y;
    Xv.resize(0, X.cols());
    Yv.resize(0, Y.cols());
  }

  Mlp m;
  m.options_ = options;
  m.x_scaler_ = options.scale_features ? fit_scaler(Xtr) : identity_scaler(X.cols());
  m.x_min_ = Xtr.colwise().minCoeff();
  m.x_max_ = Xtr.colwise().maxCoeff();
  m.y_scaler_ = options.task == Task::Regression && options.scale_targets ? fit_scaler(Ytr)
                                                                            : identity_scaler(Y.cols());
  // Early stopping must watch the function predict() computes, so validation inputs are clipped the same way.
  detail::train(options, m.x_scaler_.transform(Xtr), m.y_scaler_.transform(Ytr), m.network_inputs_(Xv),
                m.y_scaler_.transform(Yv), rng, m.weights_, m.biases_, m.history_);
  m.history_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

// ---- prediction --------------------------------------------------------------------------------------------------

namespace {
void check_predict_input(const Mlp& m, const MatrixXd& X) {
  if (m.empty()) throw InvalidArgument("the network is empty (train it with Mlp::fit or load one)");
  if (X.cols() != m.n_inputs())
    throw InvalidArgument("expected " + std::to_string(m.n_inputs()) + " features, got " + std::to_string(X.cols()));
  require_finite(X, "X");
}

MatrixXd finish_output(const Mlp& m, MatrixXd Z) {
  if (m.options().task == Task::Binary) return (1.0 / (1.0 + (-Z.array()).exp())).matrix();
  return m.target_scaler().inverse(Z);
}
}  // namespace

Eigen::MatrixXd Mlp::predict(const Eigen::MatrixXd& X) const {
  check_predict_input(*this, X);
  if (X.rows() == 0) return MatrixXd(0, n_outputs());
  return finish_output(*this, detail::forward(options_, weights_, biases_, network_inputs_(X)));
}

Eigen::MatrixXd Mlp::network_inputs_(const Eigen::MatrixXd& X) const {
  if (!options_.clip_inputs) return x_scaler_.transform(X);
  MatrixXd C = X;
  for (Index j = 0; j < C.cols(); ++j) C.col(j) = C.col(j).cwiseMax(x_min_(j)).cwiseMin(x_max_(j));
  return x_scaler_.transform(C);
}

Eigen::MatrixXd Mlp::predict_reference(const Eigen::MatrixXd& X) const {
  check_predict_input(*this, X);
  MatrixXd A = network_inputs_(X);
  for (std::size_t l = 0; l < weights_.size(); ++l) {
    MatrixXd Z = A * weights_[l].transpose();
    Z.rowwise() += biases_[l].transpose();
    if (l + 1 < weights_.size()) activate(Z, options_.activation);
    A = std::move(Z);
  }
  return finish_output(*this, std::move(A));
}

double Mlp::loss(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, Eigen::VectorXd* gradient) const {
  check_predict_input(*this, X);
  if (Y.rows() != X.rows())
    throw InvalidArgument("X has " + std::to_string(X.rows()) + " rows but Y has " + std::to_string(Y.rows()));
  if (Y.cols() != n_outputs())
    throw InvalidArgument("expected " + std::to_string(n_outputs()) + " targets, got " + std::to_string(Y.cols()));
  if (X.rows() < 1) throw InvalidArgument("loss: X has no rows");
  require_finite(Y, "Y");
  if (options_.task == Task::Binary) require_binary(Y, "Y");
  return detail::loss(options_, weights_, biases_, network_inputs_(X), y_scaler_.transform(Y), gradient);
}

Eigen::VectorXd Mlp::parameters() const {
  Index total = 0;
  for (std::size_t l = 0; l < weights_.size(); ++l) total += weights_[l].size() + biases_[l].size();
  VectorXd theta(total);
  Index k = 0;
  for (std::size_t l = 0; l < weights_.size(); ++l) {
    const MatrixXd& W = weights_[l];
    for (Index i = 0; i < W.rows(); ++i)
      for (Index j = 0; j < W.cols(); ++j) theta(k++) = W(i, j);
    theta.segment(k, biases_[l].size()) = biases_[l];
    k += biases_[l].size();
  }
  return theta;
}

void Mlp::set_parameters(const Eigen::VectorXd& theta) {
  const Index expected = parameters().size();
  if (theta.size() != expected)
    throw InvalidArgument("set_parameters: expected " + std::to_string(expected) + " values, got " +
                          std::to_string(theta.size()));
  Index k = 0;
  for (std::size_t l = 0; l < weights_.size(); ++l) {
    MatrixXd& W = weights_[l];
    for (Index i = 0; i < W.rows(); ++i)
      for (Index j = 0; j < W.cols(); ++j) W(i, j) = theta(k++);
    biases_[l] = theta.segment(k, biases_[l].size());
    k += biases_[l].size();
  }
}

int Mlp::n_inputs() const { return weights_.empty() ? 0 : static_cast<int>(weights_.front().cols()); }

int Mlp::n_outputs() const { return weights_.empty() ? 0 : static_cast<int>(weights_.back().rows()); }

// ---- persistence -------------------------------------------------------------------------------------------------

nlohmann::json Mlp::to_json() const {
  if (empty()) throw InvalidArgument("cannot serialise an empty network (train it with Mlp::fit first)");
  json layers = json::array();
  for (std::size_t l = 0; l < weights_.size(); ++l) {
    const MatrixXd& W = weights_[l];
    json rows = json::array();
    for (Index i = 0; i < W.rows(); ++i) {
      std::vector<double> r(static_cast<std::size_t>(W.cols()));
      for (Index j = 0; j < W.cols(); ++j) r[static_cast<std::size_t>(j)] = W(i, j);
      rows.push_back(std::move(r));
    }
    layers.push_back(json{{"weight", std::move(rows)},
                          {"bias", std::vector<double>(biases_[l].data(), biases_[l].data() + biases_[l].size())}});
  }
  json j{{"format", kFormat},
         {"version", kVersion},
         {"options", options_.to_json()},
         {"feature_scaler", scaler_json(x_scaler_)},
         {"target_scaler", scaler_json(y_scaler_)},
         {"layers", std::move(layers)},
         {"history", history_json(history_)}};
  // A hand-assembled network has no training range; its JSON stays as it was given.
  if (x_min_.array().isFinite().any() || x_max_.array().isFinite().any())
    j["input_range"] = {{"min", range_values(x_min_)}, {"max", range_values(x_max_)}};
  return j;
}

namespace {
// The parts of a saved network, checked for consistency; Mlp's static members assemble them.
struct Parts {
  MlpOptions options;
  Scaler xs, ys;
  RowVectorXd x_min, x_max;
  std::vector<MatrixXd> W;
  std::vector<VectorXd> b;
  TrainHistory history;
};

Parts parts_from_json(const json& j, const std::string& src) {
  check_keys(j, src, "", {"format", "version", "options", "feature_scaler", "target_scaler", "layers", "history"},
             {"input_range"});
  if (!j["format"].is_string() || j["format"].get<std::string>() != kFormat)
    bad(src, "format", std::string("expected \"") + kFormat + "\", got " + j["format"].dump().substr(0, 40));
  if (get_integer(j["version"], src, "version") != kVersion)
    bad(src, "version", "unsupported version " + j["version"].dump() + " (this build reads " +
                            std::to_string(kVersion) + ")");
  MlpOptions options;
  try {
    options = MlpOptions::from_json(j["options"]);
  } catch (const InvalidArgument& e) {
    bad(src, "options", e.what());
  }
  const Scaler xs = get_scaler(j["feature_scaler"], src, "feature_scaler");
  const Scaler ys = get_scaler(j["target_scaler"], src, "target_scaler");
  const json& layers = j["layers"];
  if (!layers.is_array()) bad(src, "layers", "expected an array");
  if (layers.size() != options.hidden.size() + 1)
    bad(src, "layers", "has " + std::to_string(layers.size()) + " layers but options.hidden implies " +
                           std::to_string(options.hidden.size() + 1));
  std::vector<MatrixXd> W;
  std::vector<VectorXd> b;
  Index fan_in = xs.mean.size();
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const std::string f = "layers[" + std::to_string(l) + "]";
    check_keys(layers[l], src, f, {"weight", "bias"});
    const json& w = layers[l]["weight"];
    if (!w.is_array()) bad(src, f + ".weight", "expected an array of rows");
    const Index out = static_cast<Index>(w.size());
    if (l < options.hidden.size() && out != options.hidden[l])
      bad(src, f + ".weight", "has " + std::to_string(out) + " rows but options.hidden[" + std::to_string(l) +
                                  "] = " + std::to_string(options.hidden[l]));
    if (out < 1) bad(src, f + ".weight", "has no rows");
    MatrixXd M(out, fan_in);
    for (Index i = 0; i < out; ++i) {
      const RowVectorXd r = get_finite_row(w[static_cast<std::size_t>(i)], src, f + ".weight[" + std::to_string(i) + "]");
      if (r.size() != fan_in)
        bad(src, f + ".weight[" + std::to_string(i) + "]",
            "has " + std::to_string(r.size()) + " values, expected " + std::to_string(fan_in));
      M.row(i) = r;
    }
    const RowVectorXd bias = get_finite_row(layers[l]["bias"], src, f + ".bias");
    if (bias.size() != out)
      bad(src, f + ".bias", "has " + std::to_string(bias.size()) + " values, expected " + std::to_string(out));
    W.push_back(std::move(M));
    b.push_back(bias.transpose());
    fan_in = out;
  }
  if (ys.mean.size() != fan_in)
    bad(src, "target_scaler", "has " + std::to_string(ys.mean.size()) + " columns but the network has " +
                                  std::to_string(fan_in) + " outputs");
  if (options.task == Task::Binary && fan_in != 1) bad(src, "layers", "a binary classifier must have 1 output");
  // input_range is optional (networks assembled by hand); absent = unbounded, so clip_inputs does nothing.
  const Index n_in = xs.mean.size();
  RowVectorXd x_min = RowVectorXd::Constant(n_in, -std::numeric_limits<double>::infinity());
  RowVectorXd x_max = RowVectorXd::Constant(n_in, std::numeric_limits<double>::infinity());
  if (j.contains("input_range")) {
    const json& r = j["input_range"];
    check_keys(r, src, "input_range", {"min", "max"});
    x_min = get_range_row(r["min"], src, "input_range.min", -std::numeric_limits<double>::infinity());
    x_max = get_range_row(r["max"], src, "input_range.max", std::numeric_limits<double>::infinity());
    if (x_min.size() != n_in || x_max.size() != n_in)
      bad(src, "input_range", "has " + std::to_string(x_min.size()) + "/" + std::to_string(x_max.size()) +
                                  " values, expected " + std::to_string(n_in));
    for (Index i = 0; i < n_in; ++i)
      if (!(x_min(i) <= x_max(i))) bad(src, "input_range", "min > max in column " + std::to_string(i));
  }
  TrainHistory h = get_history(j["history"], src);
  return Parts{std::move(options), xs, ys, std::move(x_min), std::move(x_max), std::move(W), std::move(b),
               std::move(h)};
}
}  // namespace

Mlp Mlp::from_json(const nlohmann::json& j) {
  Parts p = parts_from_json(j, "MLP JSON");
  Mlp m;
  m.options_ = std::move(p.options);
  m.x_scaler_ = std::move(p.xs);
  m.x_min_ = std::move(p.x_min);
  m.x_max_ = std::move(p.x_max);
  m.y_scaler_ = std::move(p.ys);
  m.weights_ = std::move(p.W);
  m.biases_ = std::move(p.b);
  m.history_ = std::move(p.history);
  return m;
}

void Mlp::save(const std::filesystem::path& path) const {
  const std::vector<std::uint8_t> bytes = json::to_cbor(to_json());
  core::write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Mlp Mlp::load(const std::filesystem::path& path) {
  const std::string bytes = core::read_file(path);
  json j;
  try {
    j = json::from_cbor(bytes);
  } catch (const json::exception& e) {
    throw ParseError(path.string(), 0, "", std::string("not a tsunagu MLP file (invalid or truncated CBOR: ") +
                                               e.what() + ")");
  }
  Parts p = parts_from_json(j, path.string());
  Mlp m;
  m.options_ = std::move(p.options);
  m.x_scaler_ = std::move(p.xs);
  m.x_min_ = std::move(p.x_min);
  m.x_max_ = std::move(p.x_max);
  m.y_scaler_ = std::move(p.ys);
  m.weights_ = std::move(p.W);
  m.biases_ = std::move(p.b);
  m.history_ = std::move(p.history);
  return m;
}

bool cuda_available() { return detail::cuda_available(); }

}  // namespace tsunagu::nn
