cdef double bf_rls_get(int i, int j):
    return _namespace_bf_rls_phi[i * <int>_namespace_bf_rls_state[7] + j]
