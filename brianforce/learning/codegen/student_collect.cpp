/* Called for every neuron i: its state (v, I_syn, h, r_f, hr_f, r_s, hr_s) and the features
   s = [tau_slow r_s; tau_d r_f] for the training operation (distinct writes only); its spike count
   at the first operation of the last RLS trial. */
double bf_st_collect(const int i, const double v, const double I_syn, const double h, const double r_f,
                     const double hr_f, const double r_s, const double hr_s, const double tau_slow,
                     const double tau_d, const double spikes, const double t)
{
    const int N = (int)_namespace_bf_st_par[0];
    double* st = _namespace_bf_st_state;
    st[i] = v; st[N + i] = I_syn; st[2 * N + i] = h; st[3 * N + i] = r_f; st[4 * N + i] = hr_f;
    st[5 * N + i] = r_s; st[6 * N + i] = hr_s;
    _namespace_bf_st_s[i] = r_s * tau_slow;
    _namespace_bf_st_s[N + i] = r_f * tau_d;
    if ((long)std::floor(t / _namespace_bf_st_par[10] + 0.5) == (long)_namespace_bf_st_par[11])
        _namespace_bf_st_count[i] = spikes;
    return 0.0;
}
