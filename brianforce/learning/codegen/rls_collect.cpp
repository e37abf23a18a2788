/* Called for every decoder synapse (possibly from several OpenMP threads: distinct writes only). */
double bf_rls_collect(const int i, const int j, const double r, const double hr, const double phi, const double y)
{
    const int K = (int)_namespace_bf_rls_state[7];
    if (j == 0) { _namespace_bf_rls_r[i] = r; _namespace_bf_rls_hr[i] = hr; }
    if (i == 0) _namespace_bf_rls_y[j] = y;
    _namespace_bf_rls_phi[i * K + j] = phi;
    return phi;
}
