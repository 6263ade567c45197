"""``reelrights usage``: where are my works (or my guild's members' work) used?

The question studios and guilds ask first. Starting from a party, it follows the registry's
projections of the log: works owned or credited -> bundles holding them -> licenses on those
bundles -> committed runs that used them (how much, and their audit certificates) -> outputs and
productions drawing on those runs -> the fund's earnings. Every fact carries its log index, so
each answer can be checked against the log with an inclusion proof.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select, union

from ..store.db import Database
from ..store.evidence_tables import audit_certificates, run_usage, training_runs
from ..store.fund_tables import (
    fund_lines,
    fund_postings,
    production_outputs,
    productions,
    revenue_reports,
    unmatched_credits,
)
from ..store.tables import bundle_works, bundles, credits, guild_members, licenses, works
from .records import (
    UsageBundle,
    UsageCertificate,
    UsageEarning,
    UsageLicense,
    UsageMember,
    UsageOutput,
    UsageRelation,
    UsageReport,
    UsageRun,
    UsageWork,
)
from .resolve import resolve_party

__all__ = ["usage_report"]


def usage_report(db: Database, party: str, *, works_too: bool = True) -> UsageReport:
    """The report; ``works_too=False`` leaves out the (possibly thousands of) works themselves,
    which the bundles, licenses, runs and earnings are still followed from (the web's party
    pages list the works a page at a time: :mod:`.listing`)."""
    with db.read() as conn:
        who = resolve_party(conn, party)
        subjects = {who.id}
        members = []
        if who.kind == "guild":
            for m in conn.execute(select(guild_members).where(guild_members.c.guild_id == who.id)
                                  .order_by(guild_members.c.log_index)):
                subjects.add(m.member_id)
                members.append(UsageMember(m.member_id, m.log_index))
        subj = sorted(subjects)
        work_rows: dict[str, tuple[str, int]] = {}  # work -> (title, log index)
        relations: dict[str, list[UsageRelation]] = defaultdict(list)
        if works_too:
            for w in conn.execute(select(works).where(works.c.owner_id.in_(subj))):
                work_rows[w.id] = (w.title, w.log_index)
                relations[w.id].append(UsageRelation(w.owner_id, "owner"))
            for c in conn.execute(select(credits, works.c.title, works.c.log_index.label("wli"))
                                  .join(works, works.c.id == credits.c.work_id)
                                  .where(credits.c.party_id.in_(subj))):
                work_rows.setdefault(c.work_id, (c.title, c.wli))
                relations[c.work_id].append(UsageRelation(c.party_id, c.role, c.share,
                                                          c.log_index))
        work_ids = sorted(work_rows)
        # The subjects' works as a subquery (by the owner and credit indexes), not a list of
        # thousands of ids sent back to the database.
        theirs = union(select(works.c.id).where(works.c.owner_id.in_(subj)),
                       select(credits.c.work_id).where(credits.c.party_id.in_(subj)))
        bundle_list = conn.execute(
            select(bundles.c.id, bundles.c.name, bundles.c.version, bundles.c.log_index,
                   bundle_works.c.work_id)
            .join(bundle_works, bundle_works.c.bundle_id == bundles.c.id)
            .where(bundle_works.c.work_id.in_(theirs)).order_by(bundles.c.log_index)).all()
        bundle_works_of: dict[str, list[str]] = defaultdict(list)
        bundle_info = {}
        for b in bundle_list:
            bundle_works_of[b.id].append(b.work_id)
            bundle_info[b.id] = b
        bids = sorted(bundle_info)
        lic = [UsageLicense(r.id, r.bundle_id, r.licensee_id, r.log_index, r.revoked_index)
               for r in conn.execute(select(licenses).where(licenses.c.bundle_id.in_(bids))
                                     .order_by(licenses.c.log_index))]
        runs = []
        run_ids = set()
        for r in conn.execute(select(run_usage, training_runs.c.developer_id,
                                     training_runs.c.model, training_runs.c.log_index)
                              .join(training_runs, training_runs.c.id == run_usage.c.run_id)
                              .where(run_usage.c.bundle_id.in_(bids))
                              .order_by(training_runs.c.log_index, run_usage.c.bundle_id)):
            certs = tuple(UsageCertificate(c.id, c.result, c.log_index)
                          for c in conn.execute(select(audit_certificates).where(
                              audit_certificates.c.run_id == r.run_id)
                              .order_by(audit_certificates.c.log_index)))
            run_ids.add(r.run_id)
            runs.append(UsageRun(r.run_id, r.developer_id, r.model, r.bundle_id, r.license_id,
                                 int(r.items), int(r.seconds), int(r.frames), int(r.tokens),
                                 int(r.images), r.log_index, certs))
        outs = [UsageOutput(o.production_id, o.title, o.output_id, o.run_id, o.log_index)
                for o in conn.execute(select(production_outputs, productions.c.title)
                                      .join(productions,
                                            productions.c.id == production_outputs.c.production_id)
                                      .where(production_outputs.c.run_id.in_(sorted(run_ids)))
                                      .order_by(production_outputs.c.log_index,
                                                production_outputs.c.output_id))]
        earnings = [UsageEarning(e.payee_id, e.report_id, e.production_id, e.period, e.currency,
                                 int(e.amount), e.log_index, e.superseded_by)
                    for e in conn.execute(
                        select(fund_lines.c.payee_id, fund_lines.c.report_id,
                               fund_lines.c.production_id, fund_lines.c.period,
                               fund_lines.c.currency, fund_lines.c.log_index,
                               revenue_reports.c.superseded_by,
                               func.sum(fund_lines.c.amount).label("amount"))
                        .join(revenue_reports, revenue_reports.c.id == fund_lines.c.report_id)
                        .where(fund_lines.c.payee_id == who.id, fund_lines.c.role != "retained")
                        .group_by(fund_lines.c.payee_id, fund_lines.c.report_id,
                                  fund_lines.c.production_id, fund_lines.c.period,
                                  fund_lines.c.currency, fund_lines.c.log_index,
                                  revenue_reports.c.superseded_by)
                        .order_by(fund_lines.c.log_index, fund_lines.c.production_id,
                                  fund_lines.c.period))]
        suspense = []
        for u in conn.execute(select(unmatched_credits).where(
                unmatched_credits.c.work_id.in_(theirs)).order_by(unmatched_credits.c.log_index)):
            held = {c: int(a) for c, a in conn.execute(
                select(fund_postings.c.currency, func.sum(fund_postings.c.amount))
                .where(fund_postings.c.account == f"suspense:{u.claim_id}")
                .group_by(fund_postings.c.currency)) if int(a)}
            status = ("confirmed" if u.confirmed_index is not None else "expired"
                      if u.released_index is not None else "claimed" if u.claimed_by
                      else "unclaimed")
            suspense.append({"claim": u.claim_id, "work": u.work_id, "name": u.name,
                             "role": u.role, "share": u.share, "status": status,
                             "held_minor": held, "log_index": u.log_index})
    return UsageReport(
        who.id, who.name, who.kind, tuple(members),
        tuple(UsageWork(w, *work_rows[w], tuple(relations[w])) for w in work_ids),
        tuple(UsageBundle(b, bundle_info[b].name, bundle_info[b].version,
                          bundle_info[b].log_index, tuple(sorted(bundle_works_of[b])))
              for b in bids),
        tuple(lic), tuple(runs), tuple(outs), tuple(earnings), tuple(suspense))
