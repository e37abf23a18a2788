cdef double bf_rls_collect(int i, int j, double r, double hr, double phi, double y):
    cdef double* S = _namespace_bf_rls_state
    cdef int K = <int>S[7]
    if j == 0:
        _namespace_bf_rls_r[i] = r
        _namespace_bf_rls_hr[i] = hr
    if i == 0:
        _namespace_bf_rls_y[j] = y
    _namespace_bf_rls_phi[i * K + j] = phi
    return phi
