"""``crm-dev`` (behind ``./crm``): up, down, test, token, seed, erp-sim, compose."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from crm_dev.workspace import repo_root

DESCRIPTION = "Developer tooling of the CRM platform."
EPILOG = """\
commands:
  ./crm up                       the whole platform in the foreground (Ctrl-C stops it)
  ./crm down                     stop a running ./crm up from another terminal
  ./crm test [pytest args]       the whole test suite against real servers
  ./crm token --role manager --employee UUID [--name N] [--ttl S]
                                 print a development JWT
  ./crm seed [--url URL] [--no-erp]
                                 load the demo data through the GraphQL API (./crm up first),
                                 then publish the simulated ERP's history for those clients
  ./crm erp-sim [--out FILE] [--months 24] [--seed N] [--clients N] [--amqp-url URL]
                                 simulate the ERP: publish to erp.events, or write NDJSON
  ./crm compose [--check]        regenerate subgraph SDL and gateway/supergraph.graphql
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="./crm", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("up", help="run the whole platform in the foreground")
    sub.add_parser("down", help="stop the running `./crm up` (from another terminal)")

    sub.add_parser("test", help="run the test suite; further arguments go to pytest",
                   add_help=False)

    token = sub.add_parser("token", help="print a development JWT")
    token.add_argument("--role", action="append", dest="roles", metavar="ROLE",
                       help="admin, manager or sales_rep; repeat for several")
    token.add_argument("--employee", metavar="UUID", help="the employee id (token subject)")
    token.add_argument("--name", help="the employee's display name")
    token.add_argument("--ttl", type=int, default=8 * 3600, metavar="SECONDS",
                       help="lifetime in seconds (default 8 h)")

    seed = sub.add_parser("seed", help="load the demo data through the GraphQL API")
    seed.add_argument("--url", default=None,
                      help="GraphQL endpoint (default http://127.0.0.1:4000/graphql, the gateway)")
    seed.add_argument("--no-erp", action="store_true",
                      help="do not publish the simulated ERP history afterwards")

    from crm_dev.erp_sim.command import add_arguments

    erp = sub.add_parser("erp-sim", help="simulate the ERP: products, orders, invoices, "
                                         "payments as erp.* events (publish or NDJSON)")
    add_arguments(erp)

    compose = sub.add_parser("compose", help="regenerate subgraph SDL and the supergraph")
    compose.add_argument("--check", action="store_true",
                         help="write nothing; exit 1 if the committed files drift from the code")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args_list:
        parser.print_help()
        return 0
    if args_list[0] == "test":  # everything after `test` belongs to pytest, -h included
        from crm_dev import runtests

        return runtests.run(repo_root(), args_list[1:])

    args = parser.parse_args(args_list)
    root = repo_root()
    if args.command == "up":
        from crm_dev import up

        return up.run(root)
    if args.command == "down":
        from crm_dev import up

        return up.down(root)
    if args.command == "token":
        from crm_dev.tokens import TokenArgumentError, token

        try:
            print(token(root, roles=args.roles or [], employee=args.employee, name=args.name,
                        ttl=args.ttl))
        except TokenArgumentError as exc:
            parser.exit(2, f"./crm token: {exc}\n")
        return 0
    if args.command == "seed":
        from crm_dev import seed

        url = args.url or seed.DEFAULT_URL
        try:
            report = seed.seed(root, url)
        except seed.SeedError as exc:
            print(f"./crm seed: {exc}", file=sys.stderr)
            return 1
        seed.print_report(report, url)
        if not report.ok:
            return 1
        if args.no_erp:
            return 0
        from crm_dev.erp_sim import command

        return command.after_seed(root, url)
    if args.command == "erp-sim":
        from crm_dev.erp_sim import command

        return command.run(root, args)
    if args.command == "compose":
        from crm_dev.compose import ComposeError, compose

        try:
            return compose(root, check=args.check)
        except ComposeError as exc:
            print(f"./crm compose: {exc}", file=sys.stderr)
            return 2
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
