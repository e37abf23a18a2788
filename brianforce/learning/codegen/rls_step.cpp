static std::vector<double> _bf_rls_Pmat;
static std::vector<double> _bf_rls_Pr;
static std::vector<double> _bf_rls_Pprev;
static std::vector<double> _bf_rls_Prt;

/* One RLS update. The rank-1 update of P from the previous update (P -= c' Pr' Pr'^T) is
   deferred and fused with this update's P r pass, so P (upper triangle) is read and written
   once per update. S[11] > 1 splits the pass over that many threads (at most BF_RLS_LANES; the
   result does not depend on the number). */
static void bf_rls_update()
{
    double* S = _namespace_bf_rls_state;
    const int N = (int)S[6], K = (int)S[7];
    const double* __restrict__ r = _namespace_bf_rls_r;
    double* phi = _namespace_bf_rls_phi;
    double* err = _namespace_bf_rls_err;
    bool bad = S[2] != 0.0;
    for (int k = 0; k < K; k++) {
        double e = 0.0;
        for (int a = 0; a < N; a++) e += r[a] * phi[a * K + k];
        e -= _namespace_bf_rls_y[k];
        err[k] = e;
        if (!(std::fabs(e) <= S[4])) bad = true;
    }
    if (bad) {                      /* diverged: freeze the decoder, remember when */
        if (S[2] == 0.0) { S[2] = 1.0; S[3] = S[1]; }
        S[1] += 1.0;
        return;
    }
    if (_bf_rls_Pmat.size() != (size_t)N * N) {   /* P(0) = I / reg, upper triangle used */
        _bf_rls_Pmat.assign((size_t)N * N, 0.0);
        for (int a = 0; a < N; a++) _bf_rls_Pmat[(size_t)a * N + a] = 1.0 / S[5];
        _bf_rls_Pr.assign(N, 0.0);
        _bf_rls_Pprev.assign(N, 0.0);
        S[10] = 0.0;
    }
    double* __restrict__ P = &_bf_rls_Pmat[0];
    double* __restrict__ Pr = &_bf_rls_Pr[0];
    double* __restrict__ pp = &_bf_rls_Pprev[0];
    bf_rls_pass(P, r, pp, S[10], _bf_rls_Prt, Pr, N, (int)S[11]);
    double rPr = 0.0;
    for (int a = 0; a < N; a++) rPr += r[a] * Pr[a];
    const double c = 1.0 / (1.0 + rPr);
    const double g = S[8] != 0.0 ? c : 1.0;
    for (int a = 0; a < N; a++)
        for (int k = 0; k < K; k++) phi[a * K + k] -= (Pr[a] * g) * err[k];
    for (int a = 0; a < N; a++) pp[a] = Pr[a];
    S[10] = c;
    S[1] += 1.0;
    S[9] += 1.0;
}

/* P (upper triangle, pending rank-1 update apart) written to results/bf_rls_P.bin for the caller:
   N*N doubles of P, N of the pending Pr', then its factor c'. */
static void bf_rls_dump()
{
    const int N = (int)_namespace_bf_rls_state[6];
    std::ofstream out("results/bf_rls_P.bin", std::ios::binary);
    out.write((const char*)&_bf_rls_Pmat[0], sizeof(double) * (size_t)N * N);
    out.write((const char*)&_bf_rls_Pprev[0], sizeof(double) * (size_t)N);
    out.write((const char*)&_namespace_bf_rls_state[10], sizeof(double));
}

/* Called for every output k by a later operation: output 0 performs the update when `on` is
   non-zero (the training window), then z = phi^T r and u = phi^T hr of the (new) decoder for
   the filtered readout. After update S[12] (if > 0) P is written for the caller. */
double bf_rls_step(const int k, const double on)
{
    if (k == 0) {
        if (on != 0.0) {
            bf_rls_update();
            if (_namespace_bf_rls_state[12] > 0.0 && _namespace_bf_rls_state[1] == _namespace_bf_rls_state[12]
                    && _bf_rls_Pmat.size() > 0)
                bf_rls_dump();
        }
        const int N = (int)_namespace_bf_rls_state[6], K = (int)_namespace_bf_rls_state[7];
        for (int q = 0; q < K; q++) {
            double z = 0.0, u = 0.0;
            for (int a = 0; a < N; a++) {
                z += _namespace_bf_rls_phi[a * K + q] * _namespace_bf_rls_r[a];
                u += _namespace_bf_rls_phi[a * K + q] * _namespace_bf_rls_hr[a];
            }
            _namespace_bf_rls_zu[2 * q] = z;
            _namespace_bf_rls_zu[2 * q + 1] = u;
        }
    }
    return 0.0;
}
