/* The fused RLS pass over the upper triangle of P, shared by the generated RLS updates: the pending
   rank-1 update of the previous update is applied while P r is accumulated, so P is read and written
   once per update. */
/* Rows a..a+3 of the upper triangle: apply the pending rank-1 update P -= c' pp pp^T and
   accumulate P r into Pr (four rows per pass load r, pp and Pr once for four rows of P). */
static inline void bf_rls_quad(double* __restrict__ P, const double* __restrict__ r,
                               const double* __restrict__ pp, const double cprev,
                               double* __restrict__ Pr, const int N, const int a)
{
    double* __restrict__ R0 = P + (size_t)a * N;
    double* __restrict__ R1 = R0 + N;
    double* __restrict__ R2 = R1 + N;
    double* __restrict__ R3 = R2 + N;
    double* rows[4] = {R0, R1, R2, R3};
    const double c0 = cprev * pp[a], c1 = cprev * pp[a + 1], c2 = cprev * pp[a + 2], c3 = cprev * pp[a + 3];
    const double q0 = r[a], q1 = r[a + 1], q2 = r[a + 2], q3 = r[a + 3];
    const double cs[4] = {c0, c1, c2, c3}, qs[4] = {q0, q1, q2, q3};
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    for (int i = 0; i < 4; i++)                 /* the 4x4 corner: row a+i, columns a+i..a+3 */
        for (int j = i; j < 4; j++) {
            const double x = rows[i][a + j] - cs[i] * pp[a + j];
            rows[i][a + j] = x;
            acc[i] += x * r[a + j];
            if (j > i) Pr[a + j] += x * qs[i];
        }
    double a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (int b = a + 4; b < N; b++) {
        const double pb = pp[b], rb = r[b];
        const double x0 = R0[b] - c0 * pb, x1 = R1[b] - c1 * pb, x2 = R2[b] - c2 * pb, x3 = R3[b] - c3 * pb;
        R0[b] = x0;
        R1[b] = x1;
        R2[b] = x2;
        R3[b] = x3;
        a0 += x0 * rb;
        a1 += x1 * rb;
        a2 += x2 * rb;
        a3 += x3 * rb;
        Pr[b] += (x0 * q0 + x1 * q1) + (x2 * q2 + x3 * q3);
    }
    Pr[a] += a0;
    Pr[a + 1] += a1;
    Pr[a + 2] += a2;
    Pr[a + 3] += a3;
}

static inline void bf_rls_row(double* __restrict__ P, const double* __restrict__ r,
                              const double* __restrict__ pp, const double cprev,
                              double* __restrict__ Pr, const int N, const int a)
{
    double* __restrict__ row = P + (size_t)a * N;
    const double ca = cprev * pp[a];
    const double ra = r[a];
    row[a] -= ca * pp[a];
    double acc = row[a] * ra;
    for (int b = a + 1; b < N; b++) {
        const double x = row[b] - ca * pp[b];
        row[b] = x;
        acc += x * r[b];
        Pr[b] += x * ra;
    }
    Pr[a] += acc;
}

/* The triangle's blocks of four rows are dealt to BF_RLS_LANES lanes: lane l takes the blocks p
   with p mod 2L in {l, 2L-1-l} (long and short rows alternate, so every lane gets about the same
   share) and lane 0 the last N mod 4 rows; each lane has its own P r accumulator and the lanes are
   summed in lane order. A lane is the unit of work of a thread, so the result is the same bits for
   every number of threads. */
static const int BF_RLS_LANES = 8;

static void bf_rls_lane(double* P, const double* r, const double* pp, double cprev, double* Prl, int N, int l)
{
    const int quads = N / 4, L = BF_RLS_LANES;
    for (int base = 0; base < quads; base += 2 * L) {
        if (base + l < quads) bf_rls_quad(P, r, pp, cprev, Prl, N, 4 * (base + l));
        if (base + 2 * L - 1 - l < quads) bf_rls_quad(P, r, pp, cprev, Prl, N, 4 * (base + 2 * L - 1 - l));
    }
    if (l == 0)
        for (int a = 4 * quads; a < N; a++) bf_rls_row(P, r, pp, cprev, Prl, N, a);
}

/* Thread t of T runs the lanes t, t + T, ... */
static void bf_rls_worker(double* P, const double* r, const double* pp, double cprev, double* Prt,
                          int N, int t, int T)
{
    for (int l = t; l < BF_RLS_LANES; l += T) bf_rls_lane(P, r, pp, cprev, Prt + (size_t)l * N, N, l);
}


/* P r for regressor r (length N) with the pending update applied to P: T threads run the lanes, whose
   accumulators (Prt, BF_RLS_LANES x N) are summed in lane order into Pr. */
static void bf_rls_pass(double* P, const double* r, const double* pp, double cprev, std::vector<double>& Prt,
                        double* Pr, int N, int T)
{
    T = std::max(1, std::min(T, BF_RLS_LANES));
    Prt.assign((size_t)BF_RLS_LANES * N, 0.0);
    std::vector<std::thread> pool;
    for (int t = 1; t < T; t++)
        pool.emplace_back(bf_rls_worker, P, r, pp, cprev, &Prt[0], N, t, T);
    bf_rls_worker(P, r, pp, cprev, &Prt[0], N, 0, T);
    for (auto& th : pool) th.join();
    for (int a = 0; a < N; a++) Pr[a] = 0.0;
    for (int l = 0; l < BF_RLS_LANES; l++) {
        const double* __restrict__ Pl = &Prt[(size_t)l * N];
        for (int a = 0; a < N; a++) Pr[a] += Pl[a];
    }
}
