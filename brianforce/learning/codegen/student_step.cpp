/* One operation of a factor student's training (DePasquale et al. 2016), every dt_op, in C++.

   The trial schedule comes as tables of the operation index g (op = round(t / dt_op)):
   phase (0 forced, 1 mean, 2 RLS closed loop, 3 RLS driven by the target factors), target row,
   update flag, drive perturbation row, rest-state snapshot, end of an RLS trial. Shared with the
   neurons' operations through namespace arrays: the features s = [tau_slow r_s; tau_d r_f] and the
   state (collect), the control current and bias (read back), the rest state (restore).
   par: [0] N, [1] P, [2] Q, [3] M, [4] alpha, [5] v_th, [6] bias, [7] operations, [8] first
   operation with the demeaned bias, [9] divergence threshold, [10] dt_op, [11] first operation of
   the last RLS trial, [12] threads of the pass over P (the fused pass of rls_kernel.cpp: upper
   triangle, the previous update applied while P r is accumulated).
   stat: [0] updates, [1] diverged, [2] RLS trial of the divergence, [3] mean samples,
   [4] demeaned bias ready, [5] RLS trials done. */
static std::vector<double> _bf_st_W, _bf_st_P, _bf_st_Pr, _bf_st_pp, _bf_st_Prt, _bf_st_Wo, _bf_st_Po;
/* per-operation work buffers, sized once: y, z, the drive, the errors, [y; 1], P_out [y; 1] */
static std::vector<double> _bf_st_buf_y, _bf_st_buf_z, _bf_st_buf_yd, _bf_st_buf_e, _bf_st_buf_eo, _bf_st_buf_y1,
    _bf_st_buf_Pro;
static double _bf_st_cprev = 0.0, _bf_st_acc = 0.0;

/* One normalised RLS update of W (n x q) for regressor r and a-priori error e; P updated at once. */
static void bf_st_small_rls(double* P, double* W, const double* r, const double* e, const int n, const int q)
{
    std::vector<double>& Pr = _bf_st_buf_Pro;
    for (int a = 0; a < n; a++) {
        double acc = 0.0;
        for (int b = 0; b < n; b++) acc += P[(size_t)a * n + b] * r[b];
        Pr[a] = acc;
    }
    double rPr = 0.0;
    for (int a = 0; a < n; a++) rPr += r[a] * Pr[a];
    const double c = 1.0 / (1.0 + rPr);
    for (int a = 0; a < n; a++)
        for (int k = 0; k < q; k++) W[(size_t)a * q + k] -= (Pr[a] * c) * e[k];
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) P[(size_t)a * n + b] -= c * Pr[a] * Pr[b];
}

/* The learned state for the caller: results/bf_student_P.bin holds P (upper triangle), the pending
   P r and its factor c (as the FORCE update writes it); results/bf_student_learned.bin the rest. */
static void bf_st_dump(const int n, const int P, const int Q, const int N)
{
    std::ofstream pf("results/bf_student_P.bin", std::ios::binary);
    pf.write((const char*)&_bf_st_P[0], sizeof(double) * (size_t)n * n);
    pf.write((const char*)&_bf_st_pp[0], sizeof(double) * (size_t)n);
    pf.write((const char*)&_bf_st_cprev, sizeof(double));
    std::ofstream out("results/bf_student_learned.bin", std::ios::binary);
    out.write((const char*)&_bf_st_W[0], sizeof(double) * (size_t)n * P);
    out.write((const char*)&_bf_st_Wo[0], sizeof(double) * (size_t)(P + 1) * Q);
    out.write((const char*)&_bf_st_Po[0], sizeof(double) * (size_t)(P + 1) * (P + 1));
    out.write((const char*)_namespace_bf_st_mean, sizeof(double) * (size_t)2 * N);
    out.write((const char*)_namespace_bf_st_rest, sizeof(double) * (size_t)7 * N);
    out.write((const char*)_namespace_bf_st_stat, sizeof(double) * 8);
    out.write((const char*)_namespace_bf_st_count, sizeof(double) * (size_t)N);
}

double bf_st_step(const double t)
{
    const double* par = _namespace_bf_st_par;
    double* stat = _namespace_bf_st_stat;
    const int N = (int)par[0], P = (int)par[1], Q = (int)par[2], M = (int)par[3], n = 2 * N;
    const long G = (long)par[7];
    const long g = (long)std::floor(t / par[10] + 0.5);
    if (g < 0 || g >= G) return 0.0;
    if (_bf_st_W.size() != (size_t)n * P) {           /* W = 0, P(0) = alpha I */
        _bf_st_W.assign((size_t)n * P, 0.0);
        _bf_st_P.assign((size_t)n * n, 0.0);
        for (int a = 0; a < n; a++) _bf_st_P[(size_t)a * n + a] = par[4];
        _bf_st_Pr.assign(n, 0.0);
        _bf_st_pp.assign(n, 0.0);
        _bf_st_Wo.assign((size_t)(P + 1) * Q, 0.0);
        _bf_st_Po.assign((size_t)(P + 1) * (P + 1), 0.0);
        for (int a = 0; a <= P; a++) _bf_st_Po[(size_t)a * (P + 1) + a] = par[4];
        _bf_st_buf_y.assign(P, 0.0); _bf_st_buf_z.assign(Q, 0.0); _bf_st_buf_yd.assign(P, 0.0);
        _bf_st_buf_e.assign(P, 0.0); _bf_st_buf_eo.assign(Q, 0.0); _bf_st_buf_y1.assign(P + 1, 0.0);
        _bf_st_buf_Pro.assign(P + 1, 0.0);
    }
    const double* s = _namespace_bf_st_s;
    const double* st7 = _namespace_bf_st_state;
    double* mean = _namespace_bf_st_mean;                   /* [sum of I_syn + U y; sum of r_f] */
    const int phase = _namespace_bf_st_phase[g];
    const long row = _namespace_bf_st_row[g];
    const double* F = _namespace_bf_st_F + row * P;
    const double* O = _namespace_bf_st_O + row * Q;
    const double* U = _namespace_bf_st_U;
    if (g == (long)par[8]) {                              /* the demeaned bias, after the mean trials */
        for (int i = 0; i < N; i++)
            _namespace_bf_st_bias[i] = stat[3] > 0 ? par[6] - mean[i] / stat[3] : par[6];
        stat[4] = 1.0;
    }
    if (_namespace_bf_st_snap[g])
        for (int k = 0; k < 7 * N; k++) _namespace_bf_st_rest[k] = st7[k];
    std::vector<double>& y = _bf_st_buf_y, & z = _bf_st_buf_z, & yd = _bf_st_buf_yd;
    if (phase <= 1) {
        for (int p = 0; p < P; p++) y[p] = F[p];
    } else {
        for (int p = 0; p < P; p++) {
            double acc = 0.0;
            for (int a = 0; a < n; a++) acc += s[a] * _bf_st_W[(size_t)a * P + p];
            y[p] = acc;
            if (!std::isfinite(acc) && stat[1] == 0.0) { stat[1] = 1.0; stat[2] = stat[5]; }
        }
        for (int q = 0; q < Q; q++) {
            double acc = 0.0;
            for (int p = 0; p < P; p++) acc += y[p] * _bf_st_Wo[(size_t)p * Q + q];
            z[q] = acc + _bf_st_Wo[(size_t)P * Q + q];
        }
        if (_namespace_bf_st_update[g] && stat[1] == 0.0) {
            std::vector<double>& e = _bf_st_buf_e, & eo = _bf_st_buf_eo, & y1 = _bf_st_buf_y1;
            for (int p = 0; p < P; p++) e[p] = y[p] - F[p];
            for (int q = 0; q < Q; q++) eo[q] = z[q] - O[q];
            double* Pr = &_bf_st_Pr[0];
            bf_rls_pass(&_bf_st_P[0], s, &_bf_st_pp[0], _bf_st_cprev, _bf_st_Prt, Pr, n, (int)par[12]);
            double rPr = 0.0;
            for (int a = 0; a < n; a++) rPr += s[a] * Pr[a];
            const double c = 1.0 / (1.0 + rPr);
            for (int a = 0; a < n; a++)
                for (int p = 0; p < P; p++) _bf_st_W[(size_t)a * P + p] -= (Pr[a] * c) * e[p];
            for (int a = 0; a < n; a++) _bf_st_pp[a] = Pr[a];
            _bf_st_cprev = c;
            for (int p = 0; p < P; p++) y1[p] = y[p];
            y1[P] = 1.0;
            bf_st_small_rls(&_bf_st_Po[0], &_bf_st_Wo[0], &y1[0], &eo[0], P + 1, Q);
            stat[0] += 1.0;
        }
        for (int p = 0; p < P; p++) {
            const double d = y[p] - F[p];
            _bf_st_acc += d * d;
        }
    }
    for (int p = 0; p < P; p++) yd[p] = phase == 3 ? F[p] : y[p];
    const long pr = _namespace_bf_st_perturb_row[g];
    if (pr >= 0)
        for (int p = 0; p < P; p++) yd[p] = yd[p] + _namespace_bf_st_perturb[pr * P + p];
    if (phase == 1) {
        for (int i = 0; i < N; i++) {
            double uy = 0.0;
            for (int p = 0; p < P; p++) uy += U[(size_t)i * P + p] * y[p];
            mean[i] += st7[N + i] + uy;
            mean[N + i] += st7[3 * N + i];
        }
        stat[3] += 1.0;
    }
    const double* E = _namespace_bf_st_E + row * M;
    for (int i = 0; i < N; i++) {
        double u = 0.0, x = 0.0;
        for (int p = 0; p < P; p++) u += U[(size_t)i * P + p] * yd[p];
        for (int m = 0; m < M; m++) x += _namespace_bf_st_Uin[(size_t)i * M + m] * E[m];
        _namespace_bf_st_ctrl[i] = u + x;
    }
    for (int p = 0; p < P; p++) _namespace_bf_st_y[p] = y[p];
    const long r = _namespace_bf_st_trial_end[g];
    if (r >= 0) {                                         /* end of RLS trial r: its factor nMSE */
        const double err = _bf_st_acc / _namespace_bf_st_den[r];
        if (stat[1] == 0.0 && (!std::isfinite(err) || (r > 0 && err > par[9]))) { stat[1] = 1.0; stat[2] = (double)r; }
        _bf_st_acc = 0.0;
        stat[5] = (double)(r + 1);
    }
    if (g == G - 1) bf_st_dump(n, P, Q, N);
    return 0.0;
}
