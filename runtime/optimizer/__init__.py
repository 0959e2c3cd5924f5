"""The fast paths: the trusted compile pass that makes generated code fast, keeping every
result, statement count and error position of the code it rewrites.

    fastpaths       the pass itself (`FastPaths`, run by the sandbox after the policy and
                    runtime-nodes passes): operators and method calls inlined behind
                    type guards, and the `OPTIMIZATIONS` the differential tests switch
    fastnodes       the node builders it shares with its statement rewrites
    faststatements  statement forms: `x = x + ...` on a TEXT built in place, `M.put(K, V)`
                    and `L.add(V)` on exact dicts and lists
    inference       which script variables only ever hold one kind, and built-ins'
                    return kinds
    loopversions    an innermost loop body in versions: types known, refill checks gone
    loopcounted     an innermost loop charged once at entry and run as plain Python,
                    when its list and the run's budget prove nothing in it could fail
"""
