cdef double bf_rls_readout(int k, int which):
    return _namespace_bf_rls_zu[2 * k + which]
