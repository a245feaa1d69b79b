"""Console strings in zh-CN and English; the language comes from a cookie or the browser."""

from __future__ import annotations

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"

MESSAGES: dict[str, dict[str, str]] = {
    "app_name": {"zh-CN": "托管后台", "en": "tuoguan back office"},
    "login": {"zh-CN": "登录", "en": "Sign in"},
    "logout": {"zh-CN": "退出", "en": "Sign out"},
    "email": {"zh-CN": "邮箱", "en": "E-mail"},
    "password": {"zh-CN": "密码", "en": "Password"},
    "login_failed": {"zh-CN": "邮箱或密码错误", "en": "Wrong e-mail or password"},
    "orders": {"zh-CN": "订单", "en": "Orders"},
    "order": {"zh-CN": "订单", "en": "Order"},
    "all": {"zh-CN": "全部", "en": "All"},
    "status": {"zh-CN": "状态", "en": "Status"},
    "store": {"zh-CN": "店铺", "en": "Store"},
    "total": {"zh-CN": "金额", "en": "Total"},
    "placed_at": {"zh-CN": "下单时间", "en": "Placed"},
    "next_deadline": {"zh-CN": "下一截止时间", "en": "Next deadline"},
    "time_left": {"zh-CN": "剩余时间", "en": "Time left"},
    "overdue": {"zh-CN": "已超时", "en": "Overdue"},
    "no_deadline": {"zh-CN": "无", "en": "None"},
    "sort_newest": {"zh-CN": "最新", "en": "Newest"},
    "sort_deadline": {"zh-CN": "截止时间最近", "en": "Deadline soonest"},
    "next_page": {"zh-CN": "下一页", "en": "Next page"},
    "export": {"zh-CN": "导出 CSV", "en": "Export CSV"},
    "no_orders": {"zh-CN": "没有订单", "en": "No orders"},
    "lines": {"zh-CN": "商品", "en": "Items"},
    "quantity": {"zh-CN": "数量", "en": "Qty"},
    "unit_price": {"zh-CN": "单价", "en": "Unit price"},
    "recipient": {"zh-CN": "收件人", "en": "Recipient"},
    "deadlines": {"zh-CN": "时效", "en": "Deadlines"},
    "timeline": {"zh-CN": "订单日志", "en": "Timeline"},
    "actions": {"zh-CN": "操作", "en": "Actions"},
    "no_actions": {"zh-CN": "当前状态无可用操作", "en": "No action is possible in this state"},
    "carrier": {"zh-CN": "物流商", "en": "Carrier"},
    "tracking_number": {"zh-CN": "运单号", "en": "Tracking number"},
    "reason": {"zh-CN": "原因", "en": "Reason"},
    "confirm_cancel": {"zh-CN": "确定取消该订单吗？", "en": "Cancel this order?"},
    "done": {"zh-CN": "操作成功", "en": "Done"},
    "back": {"zh-CN": "返回", "en": "Back"},
    "language": {"zh-CN": "English", "en": "中文"},
    "confirm_by": {"zh-CN": "确认接单截止", "en": "Confirm by"},
    "ship_by": {"zh-CN": "发货截止", "en": "Ship by"},
    "deliver_by": {"zh-CN": "妥投截止", "en": "Deliver by"},
    "auto_complete_at": {"zh-CN": "自动确认收货", "en": "Auto-complete at"},
    "mode": {"zh-CN": "经营模式", "en": "Mode"},
    "missed": {"zh-CN": "已超时违约", "en": "Deadline missed"},
    "notifications": {"zh-CN": "消息", "en": "Notifications"},
    "no_notifications": {"zh-CN": "没有消息", "en": "No notifications"},
    "deadline_missed": {"zh-CN": "超时", "en": "Deadline missed"},
    "confirm_late": {"zh-CN": "超时未接单", "en": "Confirmed late"},
    "ship_late": {"zh-CN": "发货超时", "en": "Shipped late"},
    "actor": {"zh-CN": "操作人", "en": "Actor"},
    "time": {"zh-CN": "时间", "en": "Time"},
    # states, actions, modes
    "awaiting_confirmation": {"zh-CN": "待确认接单", "en": "Awaiting confirmation"},
    "awaiting_shipment": {"zh-CN": "待发货", "en": "Awaiting shipment"},
    "shipped": {"zh-CN": "已发货", "en": "Shipped"},
    "delivered": {"zh-CN": "已妥投", "en": "Delivered"},
    "completed": {"zh-CN": "交易完成", "en": "Completed"},
    "cancelled": {"zh-CN": "已取消", "en": "Cancelled"},
    "place": {"zh-CN": "下单", "en": "Placed"},
    "confirm": {"zh-CN": "确认接单", "en": "Confirm"},
    "ship": {"zh-CN": "发货", "en": "Ship"},
    "deliver": {"zh-CN": "标记妥投", "en": "Mark delivered"},
    "complete": {"zh-CN": "确认收货", "en": "Complete"},
    "cancel": {"zh-CN": "取消订单", "en": "Cancel order"},
    "self_run": {"zh-CN": "自运营", "en": "Self-run"},
    "semi_managed": {"zh-CN": "半托管", "en": "Semi-managed"},
    "full_managed": {"zh-CN": "全托管", "en": "Full-managed"},
}


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's choice, else the browser's first supported language, else Chinese."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh-CN"
    return DEFAULT


def translator(lang: str):  # type: ignore[no-untyped-def]
    """A ``t(key)`` function for templates; unknown keys show as themselves."""

    def t(key: str) -> str:
        entry = MESSAGES.get(key)
        return entry.get(lang, key) if entry else key

    return t
