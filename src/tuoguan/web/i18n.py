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
    "at_risk": {"zh-CN": "风险预警", "en": "At risk"},
    "at_risk_help": {
        "zh-CN": "可能超时的订单，按剩余时间排序；分数及原因来自卖家和线路的近期表现。",
        "en": "Orders likely to miss their deadline, least time left first; "
        "scores and reasons come from the seller's and the lane's recent record.",
    },
    "nothing_at_risk": {"zh-CN": "暂无风险订单", "en": "Nothing at risk"},
    "risk": {"zh-CN": "风险", "en": "Risk"},
    "why": {"zh-CN": "原因", "en": "Why"},
    "risk_high": {"zh-CN": "高", "en": "high"},
    "risk_medium": {"zh-CN": "中", "en": "medium"},
    "risk_low": {"zh-CN": "低", "en": "low"},
    "breaches": {"zh-CN": "违约记录", "en": "Breaches"},
    "no_breaches": {"zh-CN": "没有违约记录", "en": "No breaches"},
    "kind": {"zh-CN": "类型", "en": "Kind"},
    "deadline": {"zh-CN": "截止时间", "en": "Deadline"},
    "lateness": {"zh-CN": "超时时长", "en": "Lateness"},
    "still_late": {"zh-CN": "仍未完成", "en": "still undone"},
    "penalty": {"zh-CN": "处罚", "en": "Penalty"},
    "assessed_on": {"zh-CN": "已核定", "en": "assessed"},
    "pending_until": {"zh-CN": "待核定，最迟", "en": "to be priced by"},
    "penalties": {"zh-CN": "处罚与申诉", "en": "Penalties"},
    "no_penalties": {"zh-CN": "没有处罚", "en": "No penalties"},
    "rating": {"zh-CN": "服务评分", "en": "Rating"},
    "days": {"zh-CN": "天", "en": "days"},
    "points_deducted": {"zh-CN": "扣分", "en": "points deducted"},
    "points": {"zh-CN": "分", "en": "points"},
    "late": {"zh-CN": "超时", "en": "late"},
    "policy": {"zh-CN": "规则", "en": "policy"},
    "tier": {"zh-CN": "档", "en": "tier"},
    "appeal": {"zh-CN": "申诉", "en": "Appeal"},
    "appeal_by": {"zh-CN": "申诉截止", "en": "Appeal by"},
    "decision": {"zh-CN": "处理结果", "en": "Decision"},
    "penalty_assessed": {"zh-CN": "已处罚", "en": "Assessed"},
    "penalty_appealed": {"zh-CN": "申诉中", "en": "Appealed"},
    "penalty_upheld": {"zh-CN": "申诉驳回", "en": "Upheld"},
    "penalty_waived": {"zh-CN": "已撤销", "en": "Waived"},
    "penalty_do_appeal": {"zh-CN": "提交申诉", "en": "Appeal"},
    "penalty_do_uphold": {"zh-CN": "驳回申诉", "en": "Uphold"},
    "penalty_do_waive": {"zh-CN": "撤销处罚", "en": "Waive"},
    "policies": {"zh-CN": "处罚规则", "en": "Penalty policy"},
    "no_policies": {
        "zh-CN": "尚无处罚规则：违约只记录，不罚款",
        "en": "No policy yet: breaches are recorded, not fined",
    },
    "standing_in_force": {"zh-CN": "生效中", "en": "in force"},
    "standing_scheduled": {"zh-CN": "待生效", "en": "scheduled"},
    "standing_superseded": {"zh-CN": "已被替代", "en": "superseded"},
    "effective_from": {"zh-CN": "生效时间", "en": "Effective from"},
    "fine": {"zh-CN": "罚款（订单金额比例）", "en": "Fine (share of order total)"},
    "new_version": {"zh-CN": "新增规则版本", "en": "New version"},
    "blank_now": {"zh-CN": "留空即刻生效", "en": "blank: now"},
    "tiers": {"zh-CN": "分档", "en": "Tiers"},
    "tiers_help": {
        "zh-CN": "每行：起始小时, 结束小时(最后一档留空), 基点, 扣分",
        "en": "one per line: from hours, to hours (blank on the last), basis points, points",
    },
    "note": {"zh-CN": "备注", "en": "Note"},
    "save": {"zh-CN": "保存", "en": "Save"},
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
