//! Small dense linear algebra for model fits (p ≤ a few dozen): row-major square matrices.

/// A square matrix, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Dimension.
    pub n: usize,
    /// Entries, row-major, `n * n`.
    pub data: Vec<f64>,
}

impl Matrix {
    /// The n × n zero matrix.
    pub fn zeros(n: usize) -> Self {
        Matrix { n, data: vec![0.0; n * n] }
    }

    /// Entry (i, j).
    #[inline]
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n + j]
    }

    /// Mutable entry (i, j).
    #[inline]
    pub fn at_mut(&mut self, i: usize, j: usize) -> &mut f64 {
        &mut self.data[i * self.n + j]
    }

    /// Matrix–vector product.
    pub fn mul_vec(&self, v: &[f64]) -> Vec<f64> {
        (0..self.n).map(|i| (0..self.n).map(|j| self.at(i, j) * v[j]).sum()).collect()
    }

    /// Matrix product self · other.
    pub fn mul(&self, other: &Matrix) -> Matrix {
        let n = self.n;
        let mut out = Matrix::zeros(n);
        for i in 0..n {
            for k in 0..n {
                let a = self.at(i, k);
                if a == 0.0 {
                    continue;
                }
                for j in 0..n {
                    out.data[i * n + j] += a * other.at(k, j);
                }
            }
        }
        out
    }

    /// Adds `w · x xᵀ` (a rank-one update).
    pub fn add_outer(&mut self, x: &[f64], w: f64) {
        let n = self.n;
        for i in 0..n {
            let xi = w * x[i];
            for j in 0..n {
                self.data[i * n + j] += xi * x[j];
            }
        }
    }

    /// Cholesky factor L (lower triangular, A = L Lᵀ) of a symmetric positive-definite matrix,
    /// or `None` if the matrix is not numerically positive definite.
    pub fn cholesky(&self) -> Option<Matrix> {
        let n = self.n;
        let mut l = Matrix::zeros(n);
        let scale = (0..n).map(|i| self.at(i, i).abs()).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
        for j in 0..n {
            let mut d = self.at(j, j);
            for k in 0..j {
                d -= l.at(j, k) * l.at(j, k);
            }
            if d.is_nan() || d <= 1e-13 * scale {
                return None;
            }
            let d = d.sqrt();
            *l.at_mut(j, j) = d;
            for i in j + 1..n {
                let mut s = self.at(i, j);
                for k in 0..j {
                    s -= l.at(i, k) * l.at(j, k);
                }
                *l.at_mut(i, j) = s / d;
            }
        }
        Some(l)
    }

    /// Solves A x = b for symmetric positive-definite A.
    pub fn solve_spd(&self, b: &[f64]) -> Option<Vec<f64>> {
        let l = self.cholesky()?;
        Some(cholesky_solve(&l, b))
    }

    /// Inverse of a symmetric positive-definite matrix.
    pub fn inverse_spd(&self) -> Option<Matrix> {
        let l = self.cholesky()?;
        let n = self.n;
        let mut inv = Matrix::zeros(n);
        let mut e = vec![0.0; n];
        for j in 0..n {
            e.iter_mut().for_each(|v| *v = 0.0);
            e[j] = 1.0;
            let col = cholesky_solve(&l, &e);
            for i in 0..n {
                *inv.at_mut(i, j) = col[i];
            }
        }
        // Symmetrize against rounding.
        for i in 0..n {
            for j in 0..i {
                let m = 0.5 * (inv.at(i, j) + inv.at(j, i));
                *inv.at_mut(i, j) = m;
                *inv.at_mut(j, i) = m;
            }
        }
        Some(inv)
    }
}

fn cholesky_solve(l: &Matrix, b: &[f64]) -> Vec<f64> {
    let n = l.n;
    let mut y = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            y[i] -= l.at(i, k) * y[k];
        }
        y[i] /= l.at(i, i);
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            y[i] -= l.at(k, i) * y[k];
        }
        y[i] /= l.at(i, i);
    }
    y
}

/// Quadratic form xᵀ A x.
pub fn quad_form(a: &Matrix, x: &[f64]) -> f64 {
    let ax = a.mul_vec(x);
    ax.iter().zip(x).map(|(p, q)| p * q).sum()
}

/// Dot product.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
