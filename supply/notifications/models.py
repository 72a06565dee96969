"""A notification: one reminder or warning for one user, read in the app, perhaps e-mailed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from supply.core.db import UTCDateTime


class Notification(SQLModel, table=True):
    """One reminder for one user. `key` names the thing reminded of (`filing.due:12`): a user
    gets one notification per key, so a job that runs again sends nothing twice."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("login", "key", name="uq_notification_login_key"),)

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=32, index=True, description="收件人 / the user it is for")
    kind: str = Field(max_length=48, description="类别 / kind, e.g. filing.due")
    key: str = Field(max_length=200, description="提醒对象 / what it reminds of (once per user)")
    title: str = Field(max_length=200, description="标题 / title")
    body: str = Field(default="", max_length=4000, description="正文 / text")
    link: str = Field(default="", max_length=300, description="相关页面 / page to open")
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_by: str = Field(max_length=100, description="发出者(作业) / the job that sent it")
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    emailed_to: str | None = Field(
        default=None, max_length=254, description="邮件地址 / e-mailed to"
    )
    emailed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email_error: str = Field(
        default="", max_length=500, description="邮件未发出的原因 / why not sent"
    )


class NotificationPublic(SQLModel):
    """A notification as its user sees it."""

    id: int
    kind: str = Field(description="类别 / kind: filing.due, hold.expiring, plan.cutoff …")
    title: str
    body: str
    link: str = Field(description="相关页面(站内路径) / the page to open (a path of this site)")
    created_at: datetime
    read_at: datetime | None = Field(description="已读时间 / when read (null: unread)")
    emailed_at: datetime | None = Field(description="邮件发送时间 / when e-mailed (null: not)")


class NotificationList(SQLModel):
    """A page of the user's notifications, newest first, and how many are unread."""

    items: list[NotificationPublic]
    total: int
    unread: int
    offset: int
    limit: int
