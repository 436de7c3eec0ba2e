/*
 * The smallest libpq client: connects to argv[1] (a URL), sends argv[2] (one
 * statement or several) as one simple query, reads its result, disconnects.
 * The benchmark's floor for a process that sends one SELECT, or a schema in
 * one round trip; built by the benchmark with the system's C compiler and
 * libpq (Debian: libpq-dev).
 */
#include <stdio.h>
#include <libpq-fe.h>

int main(int argc, char **argv)
{
    PGconn *conn;
    PGresult *res;
    int ok;

    if (argc != 3) {
        fprintf(stderr, "usage: %s URL SQL\n", argv[0]);
        return 2;
    }
    conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    res = PQexec(conn, argv[2]);
    ok = PQresultStatus(res) == PGRES_TUPLES_OK
        || PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "%s", PQerrorMessage(conn));
    PQclear(res);
    PQfinish(conn);
    return ok ? 0 : 1;
}
