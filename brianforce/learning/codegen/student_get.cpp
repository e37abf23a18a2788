/* What the training operation left for neuron i (which: 0 control current, 1 bias, 2 factor i). */
double bf_st_get(const int i, const int which, const double current)
{
    if (which == 0) return _namespace_bf_st_ctrl[i];
    if (which == 1) return _namespace_bf_st_stat[4] != 0.0 ? _namespace_bf_st_bias[i] : current;
    return _namespace_bf_st_y[i];
}
