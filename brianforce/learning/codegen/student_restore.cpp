/* At the first operation of a trial that starts from the rest state: the stored value of state
   variable `which` (0 v, with its jitter and kept below threshold; 1-6 I_syn, h, r_f, hr_f, r_s,
   hr_s; 7 lastspike; 8 not_refractory), else `current`. */
double bf_st_restore(const int i, const int which, const double current, const double t)
{
    const long g = (long)std::floor(t / _namespace_bf_st_par[10] + 0.5);
    if (g < 0 || g >= (long)_namespace_bf_st_par[7]) return current;
    const long j = _namespace_bf_st_restore[g];
    if (j < 0) return current;
    const int N = (int)_namespace_bf_st_par[0];
    if (which == 7) return -1e4;
    if (which == 8) return 1.0;
    const double x = _namespace_bf_st_rest[(size_t)which * N + i];
    if (which > 0) return x;
    const double v = x + _namespace_bf_st_jitter[(size_t)j * N + i];
    const double top = _namespace_bf_st_par[5] - 1e-4;
    return v < top ? v : top;
}
