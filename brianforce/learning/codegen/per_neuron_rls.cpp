/* Per-neuron RLS (Kim & Chow 2018) as Brian2 user functions sharing namespace arrays.
   state: [0] M trained neurons, [1] K largest in-degree, [2] reg, [3] limit, [4] updates done,
   [5] diverged, [6] update index of the divergence, [7] this tick updated, [8] dale,
   [9] normalised, [10] threads. */
static std::vector<double> _bf_pn_P;          /* M x K x K, upper triangles used */

static void bf_pn_rows(const int m0, const int m1, const int K, const double* __restrict__ rall,
                       const double* __restrict__ err, const bool normalised, const bool dale)
{
    std::vector<double> R(K), Pr(K);
    for (int m = m0; m < m1; m++) {
        const int k = _namespace_bf_pn_count[m];
        const int32_t* __restrict__ idx = _namespace_bf_pn_index + (size_t)m * K;
        double* __restrict__ P = _bf_pn_P.data() + (size_t)m * K * K;
        double* __restrict__ W = _namespace_bf_pn_W + (size_t)m * K;
        for (int a = 0; a < k; a++) { R[a] = rall[idx[a]]; Pr[a] = 0.0; }
        for (int a = 0; a < k; a++) {                 /* P r from the upper triangle */
            const double* __restrict__ row = P + (size_t)a * K;
            const double ra = R[a];
            double acc = row[a] * ra;
            for (int b = a + 1; b < k; b++) { acc += row[b] * R[b]; Pr[b] += row[b] * ra; }
            Pr[a] += acc;
        }
        double rPr = 0.0;
        for (int a = 0; a < k; a++) rPr += R[a] * Pr[a];
        const double c = 1.0 / (1.0 + rPr);
        const double g = (normalised ? c : 1.0) * err[m];
        for (int a = 0; a < k; a++) {
            double w = W[a] - g * Pr[a];
            if (dale && w * _namespace_bf_pn_sign[(size_t)m * K + a] < 0) w = 0.0;
            W[a] = w;
        }
        for (int a = 0; a < k; a++) {                 /* P -= c Pr Pr^T, upper triangle */
            double* __restrict__ row = P + (size_t)a * K;
            const double ca = c * Pr[a];
            for (int b = a; b < k; b++) row[b] -= ca * Pr[b];
        }
    }
}

/* Called once per tick: updates every trained neuron where u (1 + row of the target table) is
   positive. Returns 1 after an update, else 0. */
double bf_pn_step(const double u)
{
    double* st = _namespace_bf_pn_state;
    st[7] = 0.0;
    if (u < 0.5 || st[5] != 0.0) return 0.0;
    const int M = (int)st[0], K = (int)st[1];
    if (_bf_pn_P.empty()) {
        _bf_pn_P.assign((size_t)M * K * K, 0.0);
        for (size_t m = 0; m < (size_t)M; m++)
            for (int a = 0; a < K; a++) _bf_pn_P[(m * K + a) * K + a] = 1.0 / st[2];
    }
    const double* rall = _namespace_bf_pn_r;
    const double* y = _namespace_bf_pn_y + (size_t)((int)(u - 0.5)) * M;
    double* err = _namespace_bf_pn_err;
    bool bad = false;
    for (int m = 0; m < M; m++) {
        const int k = _namespace_bf_pn_count[m];
        const int32_t* idx = _namespace_bf_pn_index + (size_t)m * K;
        const double* W = _namespace_bf_pn_W + (size_t)m * K;
        double z = 0.0;
        for (int a = 0; a < k; a++) z += W[a] * rall[idx[a]];
        err[m] = z - y[m];
        if (!std::isfinite(err[m]) || std::fabs(err[m]) > st[3]) bad = true;
    }
    if (bad) { st[5] = 1.0; st[6] = st[4]; return 0.0; }
    const int T = std::max(1, std::min((int)st[10], M));
    if (T == 1) {
        bf_pn_rows(0, M, K, rall, err, st[9] != 0.0, st[8] != 0.0);
    } else {
        std::vector<std::thread> pool;
        for (int t = 0; t < T; t++)
            pool.emplace_back(bf_pn_rows, (int)((long)M * t / T), (int)((long)M * (t + 1) / T), K, rall, err,
                              st[9] != 0.0, st[8] != 0.0);
        for (auto& th : pool) th.join();
    }
    st[4] += 1.0;
    st[7] = 1.0;
    return 1.0;
}
