cdef void bf_rls_update():
    cdef double* S = _namespace_bf_rls_state
    cdef int N = <int>S[6]
    cdef int K = <int>S[7]
    cdef double* r = _namespace_bf_rls_r
    cdef double* phi = _namespace_bf_rls_phi
    cdef double* err = _namespace_bf_rls_err
    cdef double* P = _namespace_bf_rls_P
    cdef double* Pr = _namespace_bf_rls_Pr
    cdef double* pp = _namespace_bf_rls_Pprev
    cdef bint bad = S[2] != 0.0
    cdef int a, b, k
    cdef double e, acc, ra, rPr, c, g, ca, cprev, x
    cdef double* row
    for k in range(K):
        e = 0.0
        for a in range(N):
            e += r[a] * phi[a * K + k]
        e -= _namespace_bf_rls_y[k]
        err[k] = e
        if not (abs(e) <= S[4]):
            bad = True
    if bad:
        if S[2] == 0.0:
            S[2] = 1.0
            S[3] = S[1]
        S[1] += 1.0
        return
    cprev = S[10]
    for a in range(N):
        Pr[a] = 0.0
    for a in range(N):
        row = P + <size_t>a * N
        ca = cprev * pp[a]
        ra = r[a]
        row[a] -= ca * pp[a]
        acc = row[a] * ra
        for b in range(a + 1, N):
            x = row[b] - ca * pp[b]
            row[b] = x
            acc += x * r[b]
            Pr[b] += x * ra
        Pr[a] += acc
    rPr = 0.0
    for a in range(N):
        rPr += r[a] * Pr[a]
    c = 1.0 / (1.0 + rPr)
    g = c if S[8] != 0.0 else 1.0
    for a in range(N):
        for k in range(K):
            phi[a * K + k] -= (Pr[a] * g) * err[k]
    for a in range(N):
        pp[a] = Pr[a]
    S[10] = c
    S[1] += 1.0
    S[9] += 1.0

cdef double bf_rls_step(int k, double on):
    cdef double* S = _namespace_bf_rls_state
    cdef double* phi = _namespace_bf_rls_phi
    cdef double* r = _namespace_bf_rls_r
    cdef double* hr = _namespace_bf_rls_hr
    cdef double* zu = _namespace_bf_rls_zu
    cdef int N = <int>S[6]
    cdef int K = <int>S[7]
    cdef int a, q
    cdef double z, u
    if k == 0:
        if on != 0.0:
            bf_rls_update()
        for q in range(K):
            z = 0.0
            u = 0.0
            for a in range(N):
                z += phi[a * K + q] * r[a]
                u += phi[a * K + q] * hr[a]
            zu[2 * q] = z
            zu[2 * q + 1] = u
    return 0.0
