// The header check is in the compiling: each of the other translation units of this program
// includes one public header and nothing else. Running it only says they all built.
int main() { return 0; }
