/* A static no-op: the cheapest possible exec, for the spawn-to-reap round trip. */
int main(void) { return 0; }
