"""ktrace.py with ipsets: creates the scenario's sets (`ipset save` text) in ktrace's node
namespace just before its rules are loaded, since ktrace.py makes no sets of its own.

    python3 with-ipsets.py KTRACE_PY SETS RULES --packets PACKETS [ktrace.py options]
"""
import importlib.util
import sys

ktrace_py, sets_file, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
spec = importlib.util.spec_from_file_location("ktrace", ktrace_py)
ktrace = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ktrace)
sets = open(sets_file).read()
load_rules = ktrace.Backend.load


def load_sets_then_rules(self, text):
    ktrace.run(["ipset", "-exist", "restore"], ns=ktrace.NS_NODE, stdin=sets)
    return load_rules(self, text)


ktrace.Backend.load = load_sets_then_rules
sys.exit(ktrace.main(argv))
