"""Demo stories resolved in the last days: card payments, delayed emails (reopened once) and a
sign-in outage still in its observation period."""

from incidents.demo.steps import Story, after, ago, days_ago, earlier
from incidents.demo.stories.cast import Role, S, alice, bob, carol, erin, monitoring, platform_on_call
from incidents.models import EvidenceLink, Incident

# Three days ago: SEV-1 card failures, downgraded once mitigated, resolved. It stays resolved:
# SEV-1/SEV-2 incidents close only once their post-mortem (opened on resolution, in draft
# here) is published.
resolved_card_payments = Story(
    start=days_ago(3, 9, 41),
    steps=(
        after(0, alice.declares(
            title="Card payments failing: Payments Gateway timing out to the card processor",
            severity="SEV-1", kind="availability", services=["payments-gateway", "checkout-api"],
            summary="Authorisation success rate fell from 99 % to 68 % four minutes ago; customers see "
            "'Payment could not be completed'.",
            origin=Incident.Origin.MONITORING, commander=alice, detected_at=earlier(minutes=4),
        )),
        after(1, erin.acknowledges()),
        after(1,
            alice.assigns(bob, Role.TECHNICAL_LEAD),
            alice.assigns(carol, Role.COMMUNICATIONS_LEAD),
        ),
        after(1, erin.links("https://grafana.example.com/d/psp-health/payments-psp-health?from=now-3h", "Payments / PSP health")),
        after(1, alice.updates(
            "Card payments failing for roughly 30 % of attempts since 09:37 UTC. Requests to the card "
            "processor time out after 10 s. Investigating whether the cause is on our side."
        )),
        after(1, carol.updates_customers(
            "We are investigating failures when paying by card. Some payments may not go through; "
            "no money is taken for a failed payment."
        )),
        after(3,
            erin.ticks_off("Confirm the outage"),
            bob.notes(
                "Connection pool to the processor saturated: 200/200 in use, p99 connect 9.8 s. Started "
                "four minutes after the 09:33 deploy of payments-gateway 4.18.0."
            ),
        ),
        after(1,
            bob.ticks_off("Check recent deploys"),
            erin.notes("Processor status page is green; their other merchants are fine."),
            erin.ticks_off("Check upstream dependencies"),
        ),
        after(2, alice.moves_to(
            S.IDENTIFIED, "4.18.0 lowered the processor keep-alive to 1 s; connections churn and the pool starves."
        )),
        after(1,
            alice.ticks_off("Identify the affected services"),
            alice.edits(
                users_affected_estimated=4200, regions=["eu-west-1", "us-east-1"],
                revenue_impact=Incident.ImpactLevel.HIGH, reputation_impact=Incident.ImpactLevel.MEDIUM,
                impact_description="About a third of card payments failed for 25 minutes; checkout otherwise up.",
            ),
        ),
        after(1,
            alice.ticks_off("Decide on a mitigation"),
            carol.updates_customers(
                "We have identified the cause and are rolling back a recent change to payment processing."
            ),
            carol.ticks_off("Post the first status update"),
        ),
        after(6, bob.edits(
            mitigation=Incident.Mitigation.ROLLBACK,
            mitigation_notes="Rolled payments-gateway back to 4.17.2 (kubectl rollout undo).",
        )),
        after(2, alice.moves_to(S.MONITORING, "Rollback complete; success rate back to 96 % and climbing.")),
        after(1, alice.changes_severity(
            "SEV-2", "Customer impact over; residual failures are retries of earlier attempts."
        )),
        after(10, alice.updates("Success rate 99.4 %, at baseline. Watching for 30 minutes before resolving.")),
        after(20, carol.updates_customers("A fix has been implemented and we are monitoring the results.")),
        after(15, alice.edits(users_affected_confirmed=3870)),
        after(16, alice.resolves(
            "payments-gateway 4.18.0 set the processor keep-alive to 1 s and starved the "
            "connection pool. Rolled back to 4.17.2; card success rate at its 99.4 % baseline.",
            mitigation=Incident.Mitigation.ROLLBACK,
        )),
        after(1, carol.updates_customers(
            "This incident has been resolved. Card payments have been working normally for the past hour."
        )),
    ),
)


# Two days ago: resolved, back 40 minutes later, reopened and resolved again.
reopened_notification_delays = Story(
    start=days_ago(2, 15, 20),
    steps=(
        after(0, erin.declares(
            title="Order confirmation emails delayed by up to 40 minutes",
            severity="SEV-3", kind="performance", services=["notification-worker"],
            summary="Support reports customers asking where their order confirmation is.",
            origin=Incident.Origin.CUSTOMER_REPORT, detected_at=earlier(minutes=12),
        )),
        after(2, erin.acknowledges()),
        after(1, erin.assigns(alice, Role.COMMANDER)),
        after(3,
            erin.links("https://grafana.example.com/d/queues/queues?var-queue=notifications", "Queues / notifications"),
            erin.notes("Backlog 31k messages, oldest 38 min. Workers at 100 % CPU, all 4 busy."),
        ),
        after(2, erin.edits(
            mitigation=Incident.Mitigation.WORKAROUND,
            mitigation_notes="Scaled notification-worker from 4 to 12 replicas.",
        )),
        after(1, alice.updates(
            "Order emails are running up to 40 minutes late. Scaled the workers up; backlog draining.",
            status=S.MONITORING,
        )),
        after(25, alice.resolves("Backlog drained after scaling to 12 workers.")),
        after(40, erin.reopens("Backlog growing again: 18k messages queued, oldest 22 min, with 12 workers.")),
        after(4, alice.assigns(bob, Role.TECHNICAL_LEAD)),
        after(6, bob.notes(
            "Same message ids retried thousands of times: bounce webhooks for a dead mailbox domain are "
            "requeued forever, and scaling up only made the retry storm faster."
        )),
        after(2, alice.moves_to(S.IDENTIFIED, "Retry storm from bounce webhooks; no dead-letter limit.")),
        after(1, alice.updates(
            "Cause found: a retry loop on bounced emails. Bob is shipping a retry limit; "
            "emails are still 20 minutes late."
        )),
        after(24, bob.edits(
            mitigation=Incident.Mitigation.FIX_FORWARD,
            mitigation_notes="notification-worker 2.9.3: at most 5 retries, then the dead-letter queue. "
            "Moved 9,412 looping messages there.",
        )),
        after(1, alice.moves_to(S.MONITORING, "2.9.3 deployed; backlog falling fast.")),
        after(20, alice.resolves(
            "Bounce webhooks were retried forever. 2.9.3 caps retries at 5; backlog at zero, "
            "emails on time. Workers back to 4 replicas tomorrow.",
            mitigation=Incident.Mitigation.FIX_FORWARD,
        )),
    ),
)


# Yesterday: SEV-1 sign-in outage, its first page unanswered; resolved and still inside its
# 24-hour observation.
resolved_sign_in_outage = Story(
    start=ago(hours=22, minutes=14),
    steps=(
        after(0, monitoring.declares(
            title="Customers cannot sign in: Auth Service returning 503",
            severity="SEV-1", kind="availability", services=["auth-service", "web-frontend"],
            summary="Alertmanager: AuthServiceErrorRateHigh firing, 5xx ratio 0.93 over 5 min.",
            origin=Incident.Origin.MONITORING, detected_at=earlier(minutes=1),
        )),
        # Nobody answers the first page: five minutes on, the engine pages the on-call engineer
        # again and wakes the team lead (Alice), who takes command.
        after(6,
            platform_on_call.acknowledges(),
            platform_on_call.notes("Missed the first page; on it now. The sign-in page returns 503 for me too."),
        ),
        after(1, alice.assigns(alice, Role.COMMANDER)),
        after(1,
            alice.assigns(bob, Role.TECHNICAL_LEAD),
            alice.assigns(carol, Role.COMMUNICATIONS_LEAD),
            alice.assigns(erin, Role.SCRIBE),
        ),
        after(1,
            carol.updates_customers(
                "We are investigating problems signing in to your account. Customers who are already "
                "signed in are not affected."
            ),
            carol.ticks_off("Post the first status update"),
        ),
        after(2,
            bob.links(
                "https://logs.example.com/app/discover#/view/auth-service-errors?time=now-30m",
                "auth-service errors, last 30 min", kind=EvidenceLink.Kind.LOGS,
            ),
            bob.notes(
                "auth-service logs: `SSL error: certificate verify failed (certificate has expired)` "
                "connecting to auth-db.internal. New connections fail; pooled ones still work, hence 7 % success."
            ),
        ),
        after(1, alice.moves_to(S.IDENTIFIED, "The TLS certificate of auth-db.internal expired 20 minutes before the alert.")),
        after(1,
            alice.edits(
                users_affected_estimated=25000, regions=["eu-west-1", "us-east-1", "ap-southeast-2"],
                revenue_impact=Incident.ImpactLevel.HIGH, reputation_impact=Incident.ImpactLevel.HIGH,
                impact_description="No new sign-ins anywhere; existing sessions kept working.",
            ),
            alice.updates(
                "Cause: expired certificate between auth-service and its database. Rotating it now; "
                "ETA 15 minutes."
            ),
        ),
        after(9, bob.notes("New certificate issued from the internal CA and deployed to auth-db.")),
        after(3,
            bob.edits(
                mitigation=Incident.Mitigation.FIX_FORWARD,
                mitigation_notes="Rotated the auth-db.internal certificate; restarted auth-service pods to drop "
                "failed connections.",
            ),
            carol.updates_customers(
                "A fix has been implemented and sign-ins are recovering. We are monitoring.", status=S.MONITORING
            ),
        ),
        after(10, alice.updates(
            "Sign-in success rate 99.8 % for 10 minutes. Post-mortem owner: Bob. Follow-up: alert "
            "on certificates expiring within 14 days."
        )),
        after(4,
            alice.resolves(
                "The auth-db.internal certificate expired; it was not in the expiry monitoring. "
                "Rotated and restarted; sign-ins recovered 26 minutes after the alert.",
                mitigation=Incident.Mitigation.FIX_FORWARD,
            ),
            carol.updates_customers("This incident has been resolved. Signing in works normally again."),
        ),
        after(5, alice.edits(users_affected_confirmed=21480)),
    ),
)
