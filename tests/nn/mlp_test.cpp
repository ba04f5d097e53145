// tsunagu::nn without training: options (validation, JSON), scalers, the Eigen reference forward pass against hand
// computation, the model file format (JSON/CBOR round trips, malformed files) and input validation messages.
// Networks with known weights are built through Mlp::from_json.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "../core/temp_dir.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/nn/mlp.hpp"

using namespace tsunagu;
using namespace tsunagu::nn;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using json = nlohmann::json;

namespace {

json empty_history() {
  return json{{"train_loss", json::array()}, {"val_loss", json::array()}, {"learning_rate", json::array()},
              {"epochs_run", 0},           {"best_epoch", -1},          {"early_stopped", false},
              {"device", "cpu"},           {"seconds", 0.0},            {"samples_per_second", 0.0},
              {"message", ""}};
}

// 2 -> 3 -> 1 network with scalers x' = (x - (1, -2)) / (2, 0.5), y = 3 y' + 10.
json small_model(const std::string& activation, const std::string& task = "regression") {
  MlpOptions o;
  o.hidden = {3};
  o.activation = parse_activation(activation);
  o.task = parse_task(task);
  const bool binary = task == "binary";
  return json{{"format", "tsunagu-mlp"},
              {"version", 1},
              {"options", o.to_json()},
              {"feature_scaler", {{"mean", {1.0, -2.0}}, {"scale", {2.0, 0.5}}}},
              {"target_scaler", {{"mean", {binary ? 0.0 : 10.0}}, {"scale", {binary ? 1.0 : 3.0}}}},
              {"layers", json::array({json{{"weight", {{0.5, -0.25}, {1.0, 0.75}, {-0.3, 0.2}}}, {"bias", {0.1, -0.2, 0.3}}},
                                      json{{"weight", {{1.0, -2.0, 0.5}}}, {"bias", {0.05}}}})},
              {"history", empty_history()}};
}

double act(const std::string& a, double z) {
  if (a == "relu") return z > 0 ? z : 0.0;
  if (a == "tanh") return std::tanh(z);
  if (a == "sigmoid") return 1.0 / (1.0 + std::exp(-z));
  if (a == "silu") return z / (1.0 + std::exp(-z));
  if (a == "gelu") return 0.5 * z * (1.0 + std::erf(z / std::sqrt(2.0)));
  if (a == "leaky_relu") return z > 0 ? z : 0.01 * z;
  ADD_FAILURE() << a;
  return 0;
}

// The small model evaluated by hand for one input row.
double small_model_output(const std::string& a, double x0, double x1, bool binary = false) {
  const double s0 = (x0 - 1.0) / 2.0, s1 = (x1 + 2.0) / 0.5;
  const double h0 = act(a, 0.5 * s0 - 0.25 * s1 + 0.1);
  const double h1 = act(a, 1.0 * s0 + 0.75 * s1 - 0.2);
  const double h2 = act(a, -0.3 * s0 + 0.2 * s1 + 0.3);
  const double out = 1.0 * h0 - 2.0 * h1 + 0.5 * h2 + 0.05;
  return binary ? 1.0 / (1.0 + std::exp(-out)) : 3.0 * out + 10.0;
}

MatrixXd sample_inputs() {
  MatrixXd X(4, 2);
  X << 3.0, -1.0, 0.0, 0.0, -2.5, -3.0, 1.0, -2.0;
  return X;
}

template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception";
  return "";
}

}  // namespace

// ---- enums and options ---------------------------------------------------------------------------------------------

TEST(MlpOptions, EnumNamesRoundTripAndUnknownNamesListTheChoices) {
  for (const char* a : {"relu", "tanh", "sigmoid", "silu", "gelu", "leaky_relu"})
    EXPECT_STREQ(activation_name(parse_activation(a)), a);
  for (const char* t : {"regression", "binary"}) EXPECT_STREQ(task_name(parse_task(t)), t);
  for (const char* s : {"constant", "step", "cosine", "plateau"}) EXPECT_STREQ(lr_schedule_name(parse_lr_schedule(s)), s);
  const std::string m = message_of<InvalidArgument>([] { parse_activation("swish"); });
  EXPECT_NE(m.find("swish"), std::string::npos) << m;
  EXPECT_NE(m.find("leaky_relu"), std::string::npos) << m;
  EXPECT_THROW(parse_task("multiclass"), InvalidArgument);
  EXPECT_THROW(parse_lr_schedule("exponential"), InvalidArgument);
}

TEST(MlpOptions, ValidateNamesTheFieldAndValue) {
  MlpOptions ok;
  EXPECT_NO_THROW(ok.validate());
  auto check = [](auto mutate, const std::string& field, const std::string& value) {
    MlpOptions o;
    mutate(o);
    const std::string m = message_of<InvalidArgument>([&] { o.validate(); });
    EXPECT_NE(m.find(field), std::string::npos) << m;
    EXPECT_NE(m.find(value), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  };
  check([](MlpOptions& o) { o.dropout = 1.5; }, "dropout", "1.5");
  check([](MlpOptions& o) { o.dropout = 1.0; }, "dropout", "1");
  check([](MlpOptions& o) { o.hidden = {8, 0}; }, "hidden[1]", "0");
  check([](MlpOptions& o) { o.epochs = 0; }, "epochs", "0");
  check([](MlpOptions& o) { o.batch_size = -3; }, "batch_size", "-3");
  check([](MlpOptions& o) { o.learning_rate = 0; }, "learning_rate", "0");
  check([](MlpOptions& o) { o.learning_rate = NAN; }, "learning_rate", "nan");
  check([](MlpOptions& o) { o.weight_decay = -1e-4; }, "weight_decay", "-0.0001");
  check([](MlpOptions& o) { o.lr_factor = 0; }, "lr_factor", "0");
  check([](MlpOptions& o) { o.lr_factor = 1.5; }, "lr_factor", "1.5");
  check([](MlpOptions& o) { o.lr_step = 0; }, "lr_step", "0");
  check([](MlpOptions& o) { o.lr_patience = -1; }, "lr_patience", "-1");
  check([](MlpOptions& o) { o.patience = -2; }, "patience", "-2");
  check([](MlpOptions& o) { o.validation_fraction = 0.95; }, "validation_fraction", "0.95");
  check([](MlpOptions& o) { o.device = "gpu"; }, "device", "gpu");
  check([](MlpOptions& o) { o.threads = -1; }, "threads", "-1");
  MlpOptions linear;
  linear.hidden.clear();
  EXPECT_NO_THROW(linear.validate());
}

TEST(MlpOptions, JsonRoundTripAndPartialObjectsKeepDefaults) {
  MlpOptions o;
  o.hidden = {64, 32, 16};
  o.activation = Activation::Gelu;
  o.dropout = 0.2;
  o.weight_decay = 1e-4;
  o.learning_rate = 3e-3;
  o.schedule = LrSchedule::Cosine;
  o.lr_factor = 0.1;
  o.lr_patience = 7;
  o.lr_step = 30;
  o.epochs = 123;
  o.batch_size = 64;
  o.patience = 9;
  o.validation_fraction = 0.2;
  o.scale_features = false;
  o.scale_targets = false;
  o.task = Task::Binary;
  o.seed = 18446744073709551615ULL;
  o.device = "cpu";
  o.threads = 2;
  o.progress = true;
  o.clip_inputs = true;
  const json j = o.to_json();
  EXPECT_EQ(j.size(), 21u);
  EXPECT_EQ(MlpOptions::from_json(j).to_json(), j);
  EXPECT_EQ(MlpOptions::from_json(json::parse(j.dump())).to_json(), j);

  const MlpOptions p = MlpOptions::from_json(json{{"epochs", 7}, {"hidden", {5}}, {"batch_size", 16.0}});
  EXPECT_EQ(p.epochs, 7);
  EXPECT_EQ(p.hidden, std::vector<int>{5});
  EXPECT_EQ(p.batch_size, 16);
  EXPECT_EQ(p.learning_rate, MlpOptions{}.learning_rate);
  EXPECT_EQ(MlpOptions::from_json(json::object()).to_json(), MlpOptions{}.to_json());
}

TEST(MlpOptions, FromJsonRefusesUnknownKeysBadTypesAndBadValues) {
  std::string m = message_of<InvalidArgument>([] { MlpOptions::from_json(json{{"learning_rat", 0.1}, {"epochs", 3}}); });
  EXPECT_NE(m.find("learning_rat"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown"), std::string::npos) << m;
  m = message_of<InvalidArgument>([] { MlpOptions::from_json(json{{"epochs", "ten"}}); });
  EXPECT_NE(m.find("epochs"), std::string::npos) << m;
  m = message_of<InvalidArgument>([] { MlpOptions::from_json(json{{"epochs", 2.5}}); });
  EXPECT_NE(m.find("epochs"), std::string::npos) << m;
  m = message_of<InvalidArgument>([] { MlpOptions::from_json(json{{"hidden", {4, "x"}}}); });
  EXPECT_NE(m.find("hidden[1]"), std::string::npos) << m;
  m = message_of<InvalidArgument>([] { MlpOptions::from_json(json{{"seed", -1}}); });
  EXPECT_NE(m.find("seed"), std::string::npos) << m;
  m = message_of<InvalidArgument>([] { MlpOptions::from_json(json{{"scale_features", 1}}); });
  EXPECT_NE(m.find("scale_features"), std::string::npos) << m;
  m = message_of<InvalidArgument>([] { MlpOptions::from_json(json{{"dropout", 1.5}}); });
  EXPECT_NE(m.find("dropout"), std::string::npos) << m;
  m = message_of<InvalidArgument>([] { MlpOptions::from_json(json{{"activation", "swish"}}); });
  EXPECT_NE(m.find("swish"), std::string::npos) << m;
  EXPECT_THROW(MlpOptions::from_json(json::array()), InvalidArgument);
}

// ---- scaler ------------------------------------------------------------------------------------------------------

TEST(Scaler, TransformsAndInvertsPerColumn) {
  Scaler s{Eigen::RowVectorXd(2), Eigen::RowVectorXd(2)};
  s.mean << 1.0, -2.0;
  s.scale << 2.0, 0.5;
  MatrixXd X(2, 2);
  X << 3.0, -1.0, 1.0, -2.0;
  MatrixXd expected(2, 2);
  expected << 1.0, 2.0, 0.0, 0.0;
  EXPECT_LT((s.transform(X) - expected).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_LT((s.inverse(s.transform(X)) - X).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_THROW(s.transform(MatrixXd::Zero(2, 3)), InvalidArgument);
  const Scaler identity;
  EXPECT_EQ(identity.transform(X), X);
}

// ---- reference forward pass ----------------------------------------------------------------------------------------

TEST(MlpReference, MatchesHandComputationForEveryActivation) {
  const MatrixXd X = sample_inputs();
  for (const char* a : {"relu", "tanh", "sigmoid", "silu", "gelu", "leaky_relu"}) {
    const Mlp m = Mlp::from_json(small_model(a));
    EXPECT_EQ(m.n_inputs(), 2);
    EXPECT_EQ(m.n_outputs(), 1);
    const MatrixXd P = m.predict_reference(X);
    ASSERT_EQ(P.rows(), 4);
    ASSERT_EQ(P.cols(), 1);
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(P(i, 0), small_model_output(a, X(i, 0), X(i, 1)), 1e-13) << a << " " << i;
    // The LibTorch path (float32) agrees to float precision.
    const MatrixXd T = m.predict(X);
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(T(i, 0), P(i, 0), 1e-5 * std::max(1.0, std::abs(P(i, 0)))) << a;
  }
}

TEST(MlpReference, BinaryReturnsProbabilities) {
  const Mlp m = Mlp::from_json(small_model("tanh", "binary"));
  const MatrixXd X = sample_inputs();
  const MatrixXd P = m.predict_reference(X);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(P(i, 0), small_model_output("tanh", X(i, 0), X(i, 1), true), 1e-14);
    EXPECT_GT(P(i, 0), 0.0);
    EXPECT_LT(P(i, 0), 1.0);
  }
  EXPECT_LT((m.predict(X) - P).cwiseAbs().maxCoeff(), 1e-6);
}

TEST(MlpReference, ParametersAreFlattenedLayerByLayerRowMajor) {
  Mlp m = Mlp::from_json(small_model("relu"));
  const VectorXd theta = m.parameters();
  ASSERT_EQ(theta.size(), 6 + 3 + 3 + 1);
  VectorXd expected(13);
  expected << 0.5, -0.25, 1.0, 0.75, -0.3, 0.2, 0.1, -0.2, 0.3, 1.0, -2.0, 0.5, 0.05;
  EXPECT_EQ(theta, expected);
  VectorXd t2 = theta * 2.0;
  m.set_parameters(t2);
  EXPECT_EQ(m.parameters(), t2);
  EXPECT_DOUBLE_EQ(m.weights()[0](1, 1), 1.5);
  EXPECT_DOUBLE_EQ(m.biases()[1](0), 0.1);
  const std::string msg = message_of<InvalidArgument>([&] { m.set_parameters(VectorXd::Zero(12)); });
  EXPECT_NE(msg.find("13"), std::string::npos) << msg;
}

// ---- input validation ----------------------------------------------------------------------------------------------

TEST(MlpInput, PredictChecksColumnsFinitenessAndEmptyNetworks) {
  const Mlp m = Mlp::from_json(small_model("relu"));
  std::string msg = message_of<InvalidArgument>([&] { m.predict(MatrixXd::Zero(3, 1)); });
  EXPECT_NE(msg.find("expected 2 features, got 1"), std::string::npos) << msg;
  msg = message_of<InvalidArgument>([&] { m.predict_reference(MatrixXd::Zero(3, 3)); });
  EXPECT_NE(msg.find("expected 2 features, got 3"), std::string::npos) << msg;
  MatrixXd X = MatrixXd::Zero(3, 2);
  X(1, 0) = NAN;
  msg = message_of<InvalidArgument>([&] { m.predict(X); });
  EXPECT_NE(msg.find("X"), std::string::npos) << msg;
  EXPECT_NE(msg.find("row 1, column 0"), std::string::npos) << msg;
  X(1, 0) = INFINITY;
  EXPECT_THROW(m.predict_reference(X), InvalidArgument);
  EXPECT_EQ(m.predict(MatrixXd(0, 2)).rows(), 0);

  const Mlp empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.n_inputs(), 0);
  EXPECT_THROW(empty.predict(MatrixXd::Zero(1, 2)), InvalidArgument);
  EXPECT_THROW(empty.to_json(), InvalidArgument);

  msg = message_of<InvalidArgument>([&] { m.loss(MatrixXd::Zero(3, 2), MatrixXd::Zero(2, 1)); });
  EXPECT_NE(msg.find("rows"), std::string::npos) << msg;
  msg = message_of<InvalidArgument>([&] { m.loss(MatrixXd::Zero(3, 2), MatrixXd::Zero(3, 2)); });
  EXPECT_NE(msg.find("expected 1 targets, got 2"), std::string::npos) << msg;
}

TEST(MlpInput, FitRefusesBadDataWithOneLineMessages) {
  MlpOptions o;
  o.hidden = {4};
  o.epochs = 1;
  const MatrixXd X = MatrixXd::Random(20, 3), Y = MatrixXd::Random(20, 2);
  auto fit_msg = [&](const MatrixXd& x, const MatrixXd& y, const MlpOptions& opt, const MatrixXd* xv = nullptr,
                     const MatrixXd* yv = nullptr) {
    const std::string m = message_of<InvalidArgument>([&] { Mlp::fit(x, y, opt, xv, yv); });
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    return m;
  };
  EXPECT_NE(fit_msg(X, Y.topRows(19), o).find("20 rows but Y has 19"), std::string::npos);
  EXPECT_NE(fit_msg(X.topRows(1), Y.topRows(1), o).find("at least 2 samples"), std::string::npos);
  MatrixXd Xn = X;
  Xn(7, 2) = NAN;
  std::string m = fit_msg(Xn, Y, o);
  EXPECT_NE(m.find("X: non-finite value nan at row 7, column 2"), std::string::npos) << m;
  MatrixXd Yn = Y;
  Yn(4, 1) = -INFINITY;
  m = fit_msg(X, Yn, o);
  EXPECT_NE(m.find("Y: non-finite value -inf at row 4, column 1"), std::string::npos) << m;

  MlpOptions bad = o;
  bad.dropout = 1.5;
  EXPECT_NE(fit_msg(X, Y, bad).find("dropout"), std::string::npos);

  MlpOptions bin = o;
  bin.task = Task::Binary;
  EXPECT_NE(fit_msg(X, Y, bin).find("1 column"), std::string::npos);
  MatrixXd labels = (Y.col(0).array() > 0).cast<double>().matrix();
  labels(5, 0) = 0.5;
  m = fit_msg(X, labels, bin);
  EXPECT_NE(m.find("0.5"), std::string::npos) << m;
  EXPECT_NE(m.find("row 5"), std::string::npos) << m;

  const MatrixXd Xv = MatrixXd::Random(5, 3), Yv = MatrixXd::Random(5, 2);
  EXPECT_NE(fit_msg(X, Y, o, &Xv, nullptr).find("together"), std::string::npos);
  const MatrixXd Xv2 = MatrixXd::Random(5, 4);
  EXPECT_NE(fit_msg(X, Y, o, &Xv2, &Yv).find("X_val: expected 3 features, got 4"), std::string::npos);
  const MatrixXd Yv1 = MatrixXd::Random(5, 1);
  EXPECT_NE(fit_msg(X, Y, o, &Xv, &Yv1).find("Y_val"), std::string::npos);
  const MatrixXd Yv4 = MatrixXd::Random(4, 2);
  EXPECT_NE(fit_msg(X, Y, o, &Xv, &Yv4).find("rows"), std::string::npos);
  MatrixXd Xvn = Xv;
  Xvn(2, 1) = NAN;
  EXPECT_NE(fit_msg(X, Y, o, &Xvn, &Yv).find("X_val: non-finite value nan at row 2, column 1"), std::string::npos);
}

// ---- model file format ---------------------------------------------------------------------------------------------

TEST(MlpFile, JsonAndCborRoundTripsGiveIdenticalPredictions) {
  test::TempDir dir("nn");
  json j = small_model("gelu");
  j["history"]["train_loss"] = {0.5, 0.25};
  j["history"]["val_loss"] = {0.6, 0.3};
  j["history"]["learning_rate"] = {1e-3, 1e-3};
  j["history"]["epochs_run"] = 2;
  j["history"]["best_epoch"] = 1;
  j["history"]["message"] = "ran 2 epochs";
  const Mlp m = Mlp::from_json(j);
  EXPECT_EQ(m.to_json(), j);
  EXPECT_EQ(m.history().val_loss, (std::vector<double>{0.6, 0.3}));
  EXPECT_EQ(m.history().best_epoch, 1);

  m.save(dir / "net.cbor");
  const std::string bytes = core::read_file(dir / "net.cbor");
  EXPECT_EQ(json::from_cbor(bytes), j);
  const Mlp back = Mlp::load(dir / "net.cbor");
  const MatrixXd X = sample_inputs();
  EXPECT_EQ(back.predict_reference(X), m.predict_reference(X));
  EXPECT_EQ(back.predict(X), m.predict(X));
  EXPECT_EQ(back.to_json(), j);
  // Text JSON too (weights are plain float64 numbers).
  EXPECT_EQ(Mlp::from_json(json::parse(j.dump())).predict_reference(X), m.predict_reference(X));
  // No temp file is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(MlpFile, FromJsonNamesMissingUnknownAndMistypedFields) {
  auto msg = [](const json& j) { return message_of<ParseError>([&] { Mlp::from_json(j); }); };
  json j = small_model("relu");
  j.erase("layers");
  EXPECT_NE(msg(j).find("missing field 'layers'"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["extra"] = 1;
  EXPECT_NE(msg(j).find("unknown field 'extra'"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["layers"][1]["scale"] = 1;
  EXPECT_NE(msg(j).find("layers[1].scale"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["layers"][0].erase("bias");
  EXPECT_NE(msg(j).find("layers[0].bias"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["layers"][0]["weight"][1][0] = "x";
  EXPECT_NE(msg(j).find("layers[0].weight[1][0]"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["layers"][0]["weight"][2] = {1.0};
  EXPECT_NE(msg(j).find("layers[0].weight[2]"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["layers"][1]["bias"] = {1.0, 2.0};
  EXPECT_NE(msg(j).find("layers[1].bias"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["options"]["hidden"] = {4};
  EXPECT_NE(msg(j).find("hidden"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["options"]["learning_rat"] = 1;
  EXPECT_NE(msg(j).find("learning_rat"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["feature_scaler"]["scale"] = {1.0, 0.0};
  EXPECT_NE(msg(j).find("feature_scaler.scale"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["target_scaler"] = {{"mean", {0.0, 0.0}}, {"scale", {1.0, 1.0}}};
  EXPECT_NE(msg(j).find("target_scaler"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["history"].erase("epochs_run");
  EXPECT_NE(msg(j).find("history.epochs_run"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["version"] = 2;
  EXPECT_NE(msg(j).find("version"), std::string::npos) << msg(j);
  j = small_model("relu");
  j["format"] = "something-else";
  EXPECT_NE(msg(j).find("format"), std::string::npos) << msg(j);
  EXPECT_THROW(Mlp::from_json(json::array()), ParseError);
  // A diverged loss written to JSON text as null reads back as NaN.
  j = small_model("relu");
  j["history"]["train_loss"] = {1.0, nullptr};
  EXPECT_TRUE(std::isnan(Mlp::from_json(j).history().train_loss[1]));
}

TEST(MlpFile, LoadNamesTheFileForNonCborTruncatedAndMissingFiles) {
  test::TempDir dir("nn");
  const Mlp m = Mlp::from_json(small_model("tanh"));
  m.save(dir / "net.cbor");
  const std::string bytes = core::read_file(dir / "net.cbor");

  core::write_file_atomic(dir / "truncated.cbor", bytes.substr(0, bytes.size() / 2));
  std::string msg = message_of<ParseError>([&] { Mlp::load(dir / "truncated.cbor"); });
  EXPECT_NE(msg.find("truncated.cbor"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;

  core::write_file_atomic(dir / "text.json", m.to_json().dump());
  msg = message_of<ParseError>([&] { Mlp::load(dir / "text.json"); });
  EXPECT_NE(msg.find("text.json"), std::string::npos) << msg;

  core::write_file_atomic(dir / "number.cbor", std::string(1, '\x01'));  // valid CBOR, not a model
  msg = message_of<ParseError>([&] { Mlp::load(dir / "number.cbor"); });
  EXPECT_NE(msg.find("number.cbor"), std::string::npos) << msg;

  json j = m.to_json();
  j.erase("history");
  const auto cbor = json::to_cbor(j);
  core::write_file_atomic(dir / "nohistory.cbor", std::string(cbor.begin(), cbor.end()));
  msg = message_of<ParseError>([&] { Mlp::load(dir / "nohistory.cbor"); });
  EXPECT_NE(msg.find("nohistory.cbor"), std::string::npos) << msg;
  EXPECT_NE(msg.find("history"), std::string::npos) << msg;

  EXPECT_THROW(Mlp::load(dir / "missing.cbor"), IoError);
}

TEST(MlpInput, ClipInputsClampsEachColumnToTheTrainingRange) {
  json j = small_model("tanh");
  j["input_range"] = {{"min", {0.0, -3.0}}, {"max", {2.0, nullptr}}};  // column 1 unbounded above
  MatrixXd X(3, 2);
  X << 5.0, -4.0, -1.0, 7.0, 1.5, -2.5;
  const Mlp plain = Mlp::from_json(j);  // clip_inputs off: the range is stored but not applied
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    EXPECT_NEAR(plain.predict_reference(X)(i, 0), small_model_output("tanh", X(i, 0), X(i, 1)), 1e-12);
  j["options"]["clip_inputs"] = true;
  const Mlp clipped = Mlp::from_json(j);
  const double expect[3][2] = {{2.0, -3.0}, {0.0, 7.0}, {1.5, -2.5}};
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    EXPECT_NEAR(clipped.predict_reference(X)(i, 0), small_model_output("tanh", expect[i][0], expect[i][1]), 1e-12);
    EXPECT_NEAR(clipped.predict(X)(i, 0), clipped.predict_reference(X)(i, 0), 1e-5);
  }
  EXPECT_EQ(clipped.to_json(), j);  // the range (null = unbounded) round-trips
  j["input_range"]["min"] = {3.0, -3.0};
  EXPECT_NE(message_of<ParseError>([&] { Mlp::from_json(j); }).find("input_range"), std::string::npos);
}

TEST(MlpFit, RecordsTheTrainingRangeOfEveryInputColumn) {
  MatrixXd X(40, 2), Y(40, 1);
  for (Eigen::Index i = 0; i < 40; ++i) {
    X(i, 0) = 0.1 * static_cast<double>(i);
    X(i, 1) = -1.0 + 0.05 * static_cast<double>(i % 7);
    Y(i, 0) = X(i, 0) - X(i, 1);
  }
  MlpOptions o;
  o.hidden = {4};
  o.epochs = 3;
  o.clip_inputs = true;
  o.validation_fraction = 0.0;
  o.threads = 1;
  const Mlp m = Mlp::fit(X, Y, o);
  EXPECT_DOUBLE_EQ(m.input_min()(0), 0.0);
  EXPECT_DOUBLE_EQ(m.input_max()(0), 3.9);
  EXPECT_DOUBLE_EQ(m.input_min()(1), -1.0);
  EXPECT_DOUBLE_EQ(m.input_max()(1), -0.7);
  MatrixXd far(1, 2), edge(1, 2);
  far << 100.0, -50.0;
  edge << 3.9, -1.0;
  EXPECT_EQ(m.predict(far), m.predict(edge));
  EXPECT_EQ(Mlp::from_json(m.to_json()).predict(far), m.predict(edge));
}
