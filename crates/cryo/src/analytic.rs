//! Closed-form freezing solutions used to validate the solver.

use crate::CryoError;

/// The error function erf(x), to about 1e-15 absolute: Maclaurin series for |x| < 3 and the
/// Laplace continued fraction of erfc for |x| ≥ 3 (Abramowitz & Stegun 7.1.5 and 7.1.14).
pub fn erf(x: f64) -> f64 {
    if x.abs() < 3.0 {
        let mut term = x;
        let mut sum = x;
        let x2 = x * x;
        let mut n = 0.0;
        while term.abs() > 1e-17 * sum.abs().max(1e-300) {
            n += 1.0;
            term *= -x2 / n;
            sum += term / (2.0 * n + 1.0);
            if n > 200.0 {
                break;
            }
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else {
        x.signum() * (1.0 - erfc(x.abs()))
    }
}

/// The complementary error function erfc(x) = 1 − erf(x), accurate in the tail (continued
/// fraction for x ≥ 3, evaluated bottom-up with 60 terms).
pub fn erfc(x: f64) -> f64 {
    if x < 3.0 {
        return 1.0 - erf(x);
    }
    // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))) (A&S 7.1.14).
    let mut f = x;
    for k in (1..=60).rev() {
        f = x + (k as f64 / 2.0) / f;
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

/// Neumann's two-phase solution of planar freezing (Carslaw & Jaeger 1959, §11.2, Eqs. 5–8):
/// a semi-infinite medium at `initial` whose face x = 0 is held at `surface` (below `freezing`)
/// from t = 0. The front is at X(t) = 2λ√(α_s·t), λ the root of
///
/// e^{−λ²}/erf(λ) − (k_l/k_s)·√(α_s/α_l)·(T_i − T_f)/(T_f − T_0) · e^{−λ²α_s/α_l}/erfc(λ√(α_s/α_l))
///   = λ·√π·L / (C_s·(T_f − T_0)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NeumannSolution {
    /// λ, dimensionless.
    pub lambda: f64,
    k_solid: f64,
    alpha_solid: f64,
    alpha_liquid: f64,
    surface: f64,
    freezing: f64,
    initial: f64,
}

/// Properties of the two phases for [`NeumannSolution::new`], SI units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TwoPhaseMedium {
    /// Conductivity of the solid, W/(m·K).
    pub k_solid: f64,
    /// Volumetric heat capacity of the solid, J/(m³·K).
    pub c_solid: f64,
    /// Conductivity of the liquid, W/(m·K).
    pub k_liquid: f64,
    /// Volumetric heat capacity of the liquid, J/(m³·K).
    pub c_liquid: f64,
    /// Volumetric latent heat, J/m³.
    pub latent_heat: f64,
}

impl NeumannSolution {
    /// Solves for λ by bisection (the left side minus the right side decreases monotonically
    /// in λ from +∞ at 0).
    pub fn new(
        medium: TwoPhaseMedium,
        surface: f64,
        freezing: f64,
        initial: f64,
    ) -> Result<NeumannSolution, CryoError> {
        if !(surface < freezing && freezing <= initial) {
            return Err(CryoError::Medium {
                field: "neumann",
                message: format!("need surface < freezing <= initial, got {surface}, {freezing}, {initial}"),
            });
        }
        let alpha_solid = medium.k_solid / medium.c_solid;
        let alpha_liquid = medium.k_liquid / medium.c_liquid;
        let nu = (alpha_solid / alpha_liquid).sqrt();
        let residual = |l: f64| {
            (-l * l).exp() / erf(l)
                - medium.k_liquid / medium.k_solid * nu * (initial - freezing) / (freezing - surface)
                    * (-l * l * nu * nu).exp()
                    / erfc(l * nu)
                - l * std::f64::consts::PI.sqrt() * medium.latent_heat / (medium.c_solid * (freezing - surface))
        };
        let (mut a, mut b) = (1e-9, 1.0);
        while residual(b) > 0.0 {
            b *= 2.0;
        }
        for _ in 0..200 {
            let m = 0.5 * (a + b);
            if residual(m) > 0.0 {
                a = m;
            } else {
                b = m;
            }
        }
        Ok(NeumannSolution {
            lambda: 0.5 * (a + b),
            k_solid: medium.k_solid,
            alpha_solid,
            alpha_liquid,
            surface,
            freezing,
            initial,
        })
    }

    /// Front position X(t) = 2λ√(α_s·t), metres.
    pub fn front_position_m(&self, t_s: f64) -> f64 {
        2.0 * self.lambda * (self.alpha_solid * t_s).sqrt()
    }

    /// Temperature at depth x (m) and time t (s), °C: erf profile in the solid, erfc profile in
    /// the liquid (Carslaw & Jaeger §11.2, Eqs. 5 and 6).
    pub fn temperature(&self, x_m: f64, t_s: f64) -> f64 {
        if x_m <= self.front_position_m(t_s) {
            self.surface
                + (self.freezing - self.surface) * erf(x_m / (2.0 * (self.alpha_solid * t_s).sqrt())) / erf(self.lambda)
        } else {
            let nu = (self.alpha_solid / self.alpha_liquid).sqrt();
            self.initial
                - (self.initial - self.freezing) * erfc(x_m / (2.0 * (self.alpha_liquid * t_s).sqrt()))
                    / erfc(self.lambda * nu)
        }
    }

    /// Heat flux drawn through the cold face, W/m² (k_s ∂T/∂x at x = 0).
    pub fn surface_flux(&self, t_s: f64) -> f64 {
        self.k_solid * (self.freezing - self.surface)
            / (erf(self.lambda) * (std::f64::consts::PI * self.alpha_solid * t_s).sqrt())
    }
}
