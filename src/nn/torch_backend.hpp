#pragma once
/// Private interface between src/nn/mlp.cpp (options, scalers, files, the Eigen reference; no LibTorch) and
/// src/nn/torch_backend.cpp (the only translation unit that includes <torch/torch.h>). Eigen types only.
///
/// Everything here works in the scaled space: inputs already standardised by the feature scaler, targets by the
/// target scaler; outputs are raw network outputs (scaled targets, or logits for Task::Binary).
#include <vector>

#include <Eigen/Core>

#include "tsunagu/core/random.hpp"
#include "tsunagu/nn/mlp.hpp"

namespace tsunagu::nn::detail {

/// Train a new network (float32, on the device options.device resolves to). X/Y: training rows; Xv/Yv: validation
/// rows (0 rows = no validation data). `rng` drives the minibatch shuffles (it already produced the validation
/// split); weight init and dropout use a LibTorch generator seeded with options.seed. Fills W/b (float32 values
/// held in double) and every field of `history` except `seconds` (set by the caller).
void train(const MlpOptions& options, const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, const Eigen::MatrixXd& Xv,
           const Eigen::MatrixXd& Yv, core::Rng& rng, std::vector<Eigen::MatrixXd>& W, std::vector<Eigen::VectorXd>& b,
           TrainHistory& history);

/// Raw outputs (n, n_outputs) of the network in float32 through LibTorch, eval mode, in batches. Runs on CUDA when
/// options.device is not "cpu" and LibTorch sees a GPU.
Eigen::MatrixXd forward(const MlpOptions& options, const std::vector<Eigen::MatrixXd>& W,
                        const std::vector<Eigen::VectorXd>& b, const Eigen::MatrixXd& X);

/// Mean loss (MSE over all elements, or BCE-with-logits) in float64 on the CPU through LibTorch autograd, with the
/// gradient flattened as [W_0 row-major, b_0, W_1, b_1, ...] when `gradient` is not null.
double loss(const MlpOptions& options, const std::vector<Eigen::MatrixXd>& W, const std::vector<Eigen::VectorXd>& b,
            const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, Eigen::VectorXd* gradient);

bool cuda_available();

/// Which kernels train on the CPU. Debian's LibTorch calls the reference (netlib) BLAS for its matrix products and
/// torch::optim::Adam spends more time in per-tensor bookkeeping than the whole forward/backward pass of a small
/// batch, so by default (Eigen) Linear layers are a custom autograd Function whose forward and backward products are
/// Eigen GEMMs and Adam is a fused Eigen loop over each parameter (same update as torch.optim.Adam; results agree
/// with the LibTorch kernels to float32 rounding). Torch selects torch::linear and torch::optim::Adam. CUDA always
/// uses the LibTorch kernels. The initial value comes from the environment (TSUNAGU_NN_KERNELS=torch); each fit reads
/// it once at its start. Process-wide; meant for tests and benchmarks.
enum class CpuKernels { Eigen, Torch };
void set_cpu_kernels(CpuKernels kernels) noexcept;
CpuKernels cpu_kernels() noexcept;

}  // namespace tsunagu::nn::detail
