"""Customer emails and SMS name the organisation (`organisation_name`, from VIGIL_ORGANISATION_NAME):
in front of the subject and as the sign-off; nothing when it is not set.

Rows still holding the words shipped before get the new ones; rows an operator edited are left as
they are (the template page shows the new default beside them)."""

from django.db import migrations

# (kind, audience, channel): (subject, body), frozen here: `comms.defaults` moves on.
BEFORE = {('customer_notice', 'customers', 'email'): ('Service Disruption Update – {{ title }}',
                                             'Service Disruption Update – {{ title }}\n'
                                             '\n'
                                             "{% if public_status == 'resolved' %}This issue has been resolved and our "
                                             "services are operating normally.{% elif public_status == 'monitoring' "
                                             '%}We have applied a fix and are monitoring the results.{% elif '
                                             "public_status == 'identified' %}We have identified the cause of the "
                                             'problem and are working on a fix.{% else %}We are investigating a '
                                             'problem{% if customer_services %} affecting {{ customer_services }}{% '
                                             'endif %}.{% endif %}\n'
                                             '{% if public_update %}\n'
                                             '{{ public_update }}\n'
                                             '{% endif %}\n'
                                             'Current status: {{ public_status|capfirst }}\n'
                                             'Started: {{ declared_at }}\n'
                                             "{% if public_status != 'resolved' %}We will share the next update {{ "
                                             "next_update|default:'as soon as we know more' }}.{% endif %}\n"
                                             '\n'
                                             'Follow the latest on our status page: {{ status_page_url }}\n'
                                             '\n'
                                             'We apologise for the inconvenience.'),
 ('customer_notice', 'customers', 'sms'): ('',
                                           'Service update - {{ title|truncatechars:60 }}: {{ public_status }}. '
                                           'Details: {{ status_page_url }}'),
 ('reopened', 'customers', 'email'): ('Service Disruption Update – {{ title }}',
                                      'Service Disruption Update – {{ title }}\n'
                                      '\n'
                                      "{{ public_update|default:'The issue has recurred; we are investigating.' }}\n"
                                      '\n'
                                      'Current status: Investigating\n'
                                      'Started: {{ declared_at }}\n'
                                      "We will share the next update {{ next_update|default:'as soon as we know more' "
                                      '}}.\n'
                                      '\n'
                                      'Follow the latest on our status page: {{ status_page_url }}\n'
                                      '\n'
                                      'We apologise for the inconvenience.'),
 ('reopened', 'customers', 'sms'): ('',
                                    'Service update - {{ title|truncatechars:60 }}: the issue has recurred; we are '
                                    'investigating. {{ status_page_url }}'),
 ('resolution', 'customers', 'email'): ('Resolved: Service Disruption – {{ title }}',
                                        'Service Disruption Resolved – {{ title }}\n'
                                        '\n'
                                        'The issue that began {{ declared_at }} has been resolved and our services are '
                                        'operating normally.\n'
                                        '{% if public_update %}\n'
                                        '{{ public_update }}\n'
                                        '{% endif %}\n'
                                        'Details: {{ status_page_url }}\n'
                                        '\n'
                                        'Thank you for your patience, and we apologise for the inconvenience.'),
 ('resolution', 'customers', 'sms'): ('',
                                      'Resolved - {{ title|truncatechars:60 }}. Our services are operating normally. '
                                      '{{ status_page_url }}')}
AFTER = {('customer_notice', 'customers', 'email'): ('{% if organisation_name %}{{ organisation_name }}: {% endif %}Service '
                                             'Disruption Update – {{ title }}',
                                             'Service Disruption Update – {{ title }}\n'
                                             '\n'
                                             "{% if public_status == 'resolved' %}This issue has been resolved and our "
                                             "services are operating normally.{% elif public_status == 'monitoring' "
                                             '%}We have applied a fix and are monitoring the results.{% elif '
                                             "public_status == 'identified' %}We have identified the cause of the "
                                             'problem and are working on a fix.{% else %}We are investigating a '
                                             'problem{% if customer_services %} affecting {{ customer_services }}{% '
                                             'endif %}.{% endif %}\n'
                                             '{% if public_update %}\n'
                                             '{{ public_update }}\n'
                                             '{% endif %}\n'
                                             'Current status: {{ public_status|capfirst }}\n'
                                             'Started: {{ declared_at }}\n'
                                             "{% if public_status != 'resolved' %}We will share the next update {{ "
                                             "next_update|default:'as soon as we know more' }}.{% endif %}\n"
                                             '\n'
                                             'Follow the latest on our status page: {{ status_page_url }}\n'
                                             '\n'
                                             'We apologise for the inconvenience.{% if organisation_name %}\n'
                                             '— {{ organisation_name }}{% endif %}'),
 ('customer_notice', 'customers', 'sms'): ('',
                                           '{% if organisation_name %}{{ organisation_name }}: {% endif %}Service '
                                           'update - {{ title|truncatechars:60 }}: {{ public_status }}. Details: {{ '
                                           'status_page_url }}'),
 ('reopened', 'customers', 'email'): ('{% if organisation_name %}{{ organisation_name }}: {% endif %}Service '
                                      'Disruption Update – {{ title }}',
                                      'Service Disruption Update – {{ title }}\n'
                                      '\n'
                                      "{{ public_update|default:'The issue has recurred; we are investigating.' }}\n"
                                      '\n'
                                      'Current status: Investigating\n'
                                      'Started: {{ declared_at }}\n'
                                      "We will share the next update {{ next_update|default:'as soon as we know more' "
                                      '}}.\n'
                                      '\n'
                                      'Follow the latest on our status page: {{ status_page_url }}\n'
                                      '\n'
                                      'We apologise for the inconvenience.{% if organisation_name %}\n'
                                      '— {{ organisation_name }}{% endif %}'),
 ('reopened', 'customers', 'sms'): ('',
                                    '{% if organisation_name %}{{ organisation_name }}: {% endif %}Service update - {{ '
                                    'title|truncatechars:60 }}: the issue has recurred; we are investigating. {{ '
                                    'status_page_url }}'),
 ('resolution', 'customers', 'email'): ('{% if organisation_name %}{{ organisation_name }}: {% endif %}Resolved: '
                                        'Service Disruption – {{ title }}',
                                        'Service Disruption Resolved – {{ title }}\n'
                                        '\n'
                                        'The issue that began {{ declared_at }} has been resolved and our services are '
                                        'operating normally.\n'
                                        '{% if public_update %}\n'
                                        '{{ public_update }}\n'
                                        '{% endif %}\n'
                                        'Details: {{ status_page_url }}\n'
                                        '\n'
                                        'Thank you for your patience, and we apologise for the inconvenience.{% if '
                                        'organisation_name %}\n'
                                        '— {{ organisation_name }}{% endif %}'),
 ('resolution', 'customers', 'sms'): ('',
                                      '{% if organisation_name %}{{ organisation_name }}: {% endif %}Resolved - {{ '
                                      'title|truncatechars:60 }}. Our services are operating normally. {{ '
                                      'status_page_url }}')}


def _replace(apps, old, new) -> None:
    MessageTemplate = apps.get_model("comms", "MessageTemplate")
    for (kind, audience, channel), (subject, body) in old.items():
        MessageTemplate.objects.filter(kind=kind, audience=audience, channel=channel, subject=subject, body=body).update(
            subject=new[kind, audience, channel][0], body=new[kind, audience, channel][1]
        )


def forwards(apps, schema_editor):
    _replace(apps, BEFORE, AFTER)


def backwards(apps, schema_editor):
    _replace(apps, AFTER, BEFORE)


class Migration(migrations.Migration):

    dependencies = [
        ("comms", "0004_reminders_name_the_missed_update"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
