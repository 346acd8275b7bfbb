"""Chebyshev economization (exact rational arithmetic) of the Taylor series used by
src/net/fastmath.rs: e^r on [-ln2/2, ln2/2] and atanh(s)/s = sum z^j/(2j+1) on z in [0, 0.0295].
Prints the coefficients (shortest round-trip f64) and error bounds. Run: python3 economize_polynomials.py
"""
from fractions import Fraction as F
from decimal import Decimal, getcontext
import math
getcontext().prec = 60

def cheb_T(n):
    # monomial coefficients of T_0..T_n
    T=[[F(1)],[F(0),F(1)]]
    for k in range(2,n+1):
        a=[F(0)]+[2*c for c in T[k-1]]
        b=T[k-2]+[F(0)]*(len(a)-len(T[k-2]))
        T.append([x-y for x,y in zip(a,b)])
    return T

def economize(coeffs, h, deg):
    # coeffs: monomials in r on [-h,h] (or [0,h] handled by caller); substitute r = h t
    n=len(coeffs)-1
    ct=[c*h**k for k,c in enumerate(coeffs)]  # in t on [-1,1]
    T=cheb_T(n)
    # convert monomial -> chebyshev: solve top-down
    cheb=[F(0)]*(n+1)
    rem=ct[:]
    for k in range(n,-1,-1):
        lead=T[k][k]
        ck=rem[k]/lead
        cheb[k]=ck
        for j,c in enumerate(T[k]):
            rem[j]-=ck*c
    dropped=sum(abs(c) for c in cheb[deg+1:])
    # back to monomials in t up to deg
    mono=[F(0)]*(deg+1)
    for k in range(deg+1):
        for j,c in enumerate(T[k]):
            mono[j]+=cheb[k]*c
    return [m/h**k for k,m in enumerate(mono)], dropped

h=F(6931471805599453,10**16)/2  # ln2/2 approx
taylor=[F(1,math.factorial(k)) for k in range(22)]
for deg in (11,12):
    mono,dropped=economize(taylor,h,deg)
    print("exp deg",deg,"dropped bound",float(dropped))
    print([float(c) for c in mono])
    # check f64 eval error vs Decimal exp on grid
    cf=[float(c) for c in mono]
    worst=0
    for i in range(-2000,2001):
        r=float(h)*i/2000
        p=0.0
        for c in reversed(cf): p=p*r+c
        ex=Decimal(r).exp()
        err=abs((Decimal(p)-ex)/ex)
        worst=max(worst,err)
    print("worst rel err (horner f64)",float(worst))

# atanh series in z on [0, a]: g(z) = sum z^j/(2j+1); shift to [-a/2,a/2]: z = a/2 + w
a=F(295,10000)
coeffs=[F(1,2*j+1) for j in range(30)]
# re-center: express in w where z = c + w, c = a/2
c=a/2
from math import comb
n=len(coeffs)-1
cw=[F(0)]*(n+1)
for j,cj in enumerate(coeffs):
    for k in range(j+1):
        cw[k]+=cj*comb(j,k)*c**(j-k)
for deg in (6,7,8):
    mono_w,dropped=economize(cw,c,deg)
    # back to z: p(z) = sum m_k (z-c)^k
    mz=[F(0)]*(deg+1)
    for k,m in enumerate(mono_w):
        for i in range(k+1):
            mz[i]+=m*comb(k,i)*(-c)**(k-i)
    print("atanh deg",deg,"dropped",float(dropped))
    print(repr([float(x) for x in mz]))
