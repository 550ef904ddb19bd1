"""The channel list counts each channel's waiting and undelivered messages from these partial indexes alone
(``COUNT(*)`` over an index-only scan), and the "not delivered" filter counts from the second. On PostgreSQL a
trigram index of each column the outbox and alert lists search serves the search (``zwadmin.lists.TrigramIndex``,
outside the state).
"""

from django.db import migrations, models

from zwadmin.lists import TrigramIndex


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0003_outbox_created_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='outboxmessage',
            index=models.Index(condition=models.Q(('status', 'pending')), fields=['channel'], name='outbox_channel_waiting_idx'),
        ),
        migrations.AddIndex(
            model_name='outboxmessage',
            index=models.Index(condition=models.Q(('status__in', ['failed', 'unconfirmed'])), fields=['channel', '-created_at'], name='outbox_problem_idx'),
        ),
        TrigramIndex("outboxmessage", "outbox_title_trgm_idx", "title"),
        TrigramIndex("alert", "alert_code_trgm_idx", "code"),
        TrigramIndex("alert", "alert_name_trgm_idx", "name"),
    ]
