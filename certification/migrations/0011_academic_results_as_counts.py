"""学业质量 rows hold counts (students who should be tested, students at pass level) instead of a typed percentage.

Existing rows keep their figure: passed = students × share ÷ 100 rounded half-up, and everyone enrolled was tested.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations, models


def counts_from_shares(apps, schema_editor):
    AcademicResult = apps.get_model("certification", "AcademicResult")
    for row in AcademicResult.objects.all().iterator():
        row.enrolled = row.students
        row.passed = int((row.students * row.pass_share / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        row.save(update_fields=["enrolled", "passed"])


class Migration(migrations.Migration):
    dependencies = [
        ("certification", "0010_cluster_founded_on"),
    ]

    operations = [
        migrations.AddField(
            model_name="academicresult",
            name="enrolled",
            field=models.PositiveIntegerField(null=True, verbose_name="students who should be tested"),
        ),
        migrations.AddField(
            model_name="academicresult",
            name="passed",
            field=models.PositiveIntegerField(null=True, verbose_name="students at pass level or above"),
        ),
        migrations.RunPython(counts_from_shares, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="academicresult",
            name="enrolled",
            field=models.PositiveIntegerField(verbose_name="students who should be tested"),
        ),
        migrations.AlterField(
            model_name="academicresult",
            name="passed",
            field=models.PositiveIntegerField(verbose_name="students at pass level or above"),
        ),
        migrations.RemoveField(model_name="academicresult", name="pass_share"),
    ]
