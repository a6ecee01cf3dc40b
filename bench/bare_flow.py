"""A bare viewflow flow for bench/transition.py: viewflow's own nodes and views, no domain, mounted only by
bench/transition_urls.py (never by the product's URLs)."""

from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.flow.views import UpdateProcessView

OWNER = "bench-bare-owner"


class BareFlow(flow.Flow):
    """Viewflow alone: a start, a person's View task assigned at once, a second View task for a permission's
    holders, an end. Mounted only by bench/transition_urls.py."""

    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.begin).Next(this.approve)
    approve = flow.View(UpdateProcessView.as_view(fields=[])).Assign(this.owner).Next(this.review)
    review = flow.View(UpdateProcessView.as_view(fields=[])).Permission("viewflow.change_process").Next(this.end)
    end = flow.End()

    def begin(self, activation):
        return activation.process

    def owner(self, activation):
        from certification.models import User

        return User.objects.get(username=OWNER)
