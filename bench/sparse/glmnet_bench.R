# glmnet side of bench/sparse/run_sparse_bench.py (not meant to be run by hand).
#
#   Rscript glmnet_bench.R JOBFILE OUTDIR
#
# JOBFILE: one tab-separated task per line (no header):
#   action  name  n  p  Xfile  yfile  lambdafile  thresh  reps  min_seconds  tag
# X is raw little-endian float64, column-major (n*p values); y and lambda raw float64.
#   action = "fit":  fit once at `thresh`, write the coefficient path on the standardised scale
#                    (beta * population SD of x_j; p x L, column-major) to OUTDIR/<name>.glmnet.<tag>.beta.f64
#   action = "time": one warm-up fit, then `reps` repetitions; each repetition calls glmnet() k times (k chosen
#                    so that a repetition lasts >= min_seconds) and records elapsed/k. Appends lines
#                    "name<TAB>tag<TAB>rep<TAB>seconds_per_path<TAB>k" to OUTDIR/glmnet_times.tsv.
# Only the glmnet() call is timed: data loading and R start-up are outside the clock. glmnet standardises x
# itself (standardize = TRUE, population SD), as tsunagu's fit_path does.
suppressPackageStartupMessages(library(glmnet))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: Rscript glmnet_bench.R JOBFILE OUTDIR")
jobs <- read.table(args[1], sep = "\t", header = FALSE, stringsAsFactors = FALSE,
                   col.names = c("action", "name", "n", "p", "X", "y", "lambda", "thresh", "reps", "min_seconds", "tag"),
                   colClasses = c("character", "character", "integer", "integer", "character", "character",
                                  "character", "numeric", "integer", "numeric", "character"))
outdir <- args[2]

# The user λ path is fitted in full (glmnet never stops early on a user-supplied path, but make sure of it).
glmnet.control(fdev = 0, devmax = 1)

read_f64 <- function(file, count) {
  con <- file(file, "rb")
  on.exit(close(con))
  v <- readBin(con, "double", n = count, size = 8, endian = "little")
  if (length(v) != count) stop(sprintf("%s: expected %d values, got %d", file, count, length(v)))
  v
}

cache <- list()
load_problem <- function(job) {
  if (!is.null(cache[[job$name]])) return(cache[[job$name]])
  x <- matrix(read_f64(job$X, job$n * job$p), job$n, job$p)
  y <- read_f64(job$y, job$n)
  lam <- read_f64(job$lambda, file.info(job$lambda)$size / 8)
  sd_pop <- sqrt(colMeans(sweep(x, 2, colMeans(x))^2))
  prob <- list(x = x, y = y, lambda = lam, sd = sd_pop)
  cache[[job$name]] <<- prob
  prob
}

fit <- function(prob, thresh) {
  glmnet(prob$x, prob$y, family = "gaussian", alpha = 1, lambda = prob$lambda, standardize = TRUE,
         intercept = TRUE, thresh = thresh, maxit = 1e7)
}

times_file <- file.path(outdir, "glmnet_times.tsv")
for (i in seq_len(nrow(jobs))) {
  job <- jobs[i, ]
  prob <- load_problem(job)
  if (job$action == "fit") {
    f <- fit(prob, job$thresh)
    if (length(f$lambda) != length(prob$lambda))
      stop(sprintf("%s: glmnet fitted %d of %d lambda values", job$name, length(f$lambda), length(prob$lambda)))
    b <- as.matrix(f$beta) * prob$sd
    con <- file(file.path(outdir, sprintf("%s.glmnet.%s.beta.f64", job$name, job$tag)), "wb")
    writeBin(as.vector(b), con, size = 8, endian = "little")
    close(con)
  } else if (job$action == "time") {
    invisible(fit(prob, job$thresh))  # warm-up
    t1 <- system.time(invisible(fit(prob, job$thresh)))[["elapsed"]]
    k <- max(1L, as.integer(ceiling(job$min_seconds / max(t1, 1e-4))))
    for (r in seq_len(job$reps)) {
      t0 <- proc.time()[["elapsed"]]
      for (j in seq_len(k)) invisible(fit(prob, job$thresh))
      el <- proc.time()[["elapsed"]] - t0
      cat(sprintf("%s\t%s\t%d\t%.9g\t%d\n", job$name, job$tag, r, el / k, k),
          file = times_file, append = TRUE)
    }
  } else {
    stop("unknown action ", job$action)
  }
}
