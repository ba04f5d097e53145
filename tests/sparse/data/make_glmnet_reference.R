# Golden numbers for tests/sparse/penalized_test.cpp: the gaussian lasso path of R glmnet (Debian r-cran-glmnet)
# on a seeded random problem with correlated columns. glmnet's gaussian objective with standardize=TRUE is
# (1/2n)||y - b0 - Xb||^2 + lambda*||b||_1 on columns scaled by their population SD, which is tsunagu's.
# Reproduce:  Rscript tests/sparse/data/make_glmnet_reference.R   (run from the repository root)
suppressMessages(library(glmnet))
set.seed(20261124)
n <- 50; p <- 10
Z <- matrix(rnorm(n * p), n, p)
X <- Z %*% chol(0.5 ^ abs(outer(1:p, 1:p, "-")))  # AR(1) correlation 0.5
X <- sweep(X, 2, seq(1, 10, length.out = p), "*") + 3  # different scales and non-zero means
beta <- c(3, -2, 0, 0, 1.5, 0, 0, 0, 0.5, 0)
y <- 4 + X %*% beta + rnorm(n)
lambda <- exp(seq(log(2.0), log(0.002), length.out = 20))
fit <- glmnet(X, y, family = "gaussian", alpha = 1, lambda = lambda, standardize = TRUE,
              thresh = 1e-16, maxit = 1e8)
dir <- "tests/sparse/data"
colnames(X) <- paste0("x", 1:p)
write.csv(data.frame(X, y = as.numeric(y)), file.path(dir, "lasso_problem.csv"), row.names = FALSE)
cf <- as.matrix(coef(fit))  # (p+1) x L, intercept first, original scale
out <- data.frame(lambda = fit$lambda, t(cf))
colnames(out) <- c("lambda", "intercept", paste0("x", 1:p))
write.csv(out, file.path(dir, "lasso_glmnet_path.csv"), row.names = FALSE)
cat(sprintf("glmnet %s: wrote %d lambda values\n", packageVersion("glmnet"), length(fit$lambda)))
