"""Seed a history database: 10,000 conversations / 1,000,000 messages for the user "local", one of them 1,000
messages long; one conversation in ten is written in Chinese, Japanese or Korean. Bulk inserts through SQLAlchemy
Core into a migrated database (its triggers index the text as the app's writes do); the file is cached.

    python -m benchmarks.seed [--conversations 10000] [--messages 1000000] [--long 1000] [--force]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert

from db.engine import Database
from db.migrate import current_revision, head_revision, upgrade_to_head
from db.models import Conversation, Message, User
from db.repository import LOCAL_USER_NAME, title_from_text
from tests.fake_openai.server import markdown_tokens

CACHE_DIR = Path(__file__).with_name(".cache")
SEED_VERSION = 2  # bump when the seeded content changes, so cached files are rebuilt
MODEL = "fake-gpt"
BATCH = 20_000  # rows per executemany: large enough to amortise, small enough to keep memory flat
# Realistic sizes (characters): short questions, longer markdown answers.
USER_CHARS = (20, 500, 100)  # low, high, mode of a triangular distribution: mean ~210
ASSISTANT_CHARS = (60, 2500, 300)  # mean ~950
NOW = datetime(2025, 11, 1, tzinfo=timezone.utc)
# The share of conversations in each unspaced script, and their sizes in characters (a Chinese character says
# about what three English letters do).
LANGUAGES = {"zh": 0.06, "ja": 0.02, "ko": 0.02}
CJK_USER_CHARS = (8, 200, 40)  # mean ~80
CJK_ASSISTANT_CHARS = (30, 1200, 150)  # mean ~460
# Vocabularies, most frequent first (word n is drawn with weight 1/(n+1), as in natural text). English words are
# mixed into the Chinese, as technical chat does.
WORDS = {
    "zh": (
        "的 是 我们 可以 一个 这个 系统 问题 数据 需要 使用 如果 因为 所以 但是 没有 就是 已经 还是 什么 怎么 可能 "
        "应该 时候 现在 方法 功能 用户 设计 实现 代码 模型 服务 接口 请求 返回 参数 配置 文件 数据库 查询 结果 错误 "
        "测试 性能 优化 部署 服务器 网络 安全 权限 登录 账号 密码 缓存 队列 日志 监控 版本 更新 升级 迁移 备份 恢复 "
        "概率 随机 奖品 活动 规则 计算 统计 分析 报表 订单 支付 价格 库存 商品 客户 消息 通知 聊天 对话 回复 搜索 "
        "排序 索引 分词 中文 英文 翻译 文本 图片 视频 音频 上传 下载 存储 内存 线程 进程 并发 异步 同步 事务 超时 "
        "重试 连接 断开 流式 令牌 温度 提示词 上下文 长度 限制 费用 额度 余额 充值 密钥 加密 解密 签名 验证 格式 "
        "解析 生成 总结 解释 例子 步骤 首先 然后 最后 另外 比如 一般 非常 比较 特别 简单 复杂 重要 注意 建议 推荐 "
        "选择 考虑 处理 完成 开始 结束 继续 停止 修改 删除 添加 保存 打开 关闭 显示 隐藏 页面 按钮 输入 输出 工具 "
        "函数 变量 对象 列表 字典 字符串 整数 循环 条件 方差 分布 样本 平均 公平 算法 复杂度 抽奖 中奖 期望 期望值 "
        "天气 今天 明天 朋友 学习 工作 时间 猫"
    ),
    "ja": (
        "です ます の は が を に で と した する こと もの これ それ データ システム サーバー ユーザー 検索 設定 問題 "
        "方法 機能 確認 必要 場合 今日 明日 ありがとう お願い から まで ので けど 日本語 カタカナ ひらがな 漢字 変換 "
        "入力 出力 画面 表示 エラー 接続 時間 データベース 質問 回答 説明 例えば 次に 最後に 注意 簡単 重要"
    ),
    "ko": (
        "합니다 있습니다 그리고 하지만 그래서 데이터 시스템 사용자 서버 문제 방법 기능 확인 필요 경우 오늘 내일 "
        "감사합니다 안녕하세요 설정 오류 연결 시간 한국어 질문 답변 설명 예를 다음 마지막 주의 간단 중요 검색 "
        "데이터베이스 화면 입력 출력"
    ),
}
MIXED_ENGLISH = ("system", "API", "Python", "JSON", "SQL", "token", "model", "Docker", "Redis", "design")
SENTENCE_END = {"zh": "。", "ja": "。", "ko": ". "}
KOREAN_PARTICLES = ("", "", "을", "를", "이", "가", "은", "는", "에서", "으로", "의")


@dataclass(frozen=True)
class SeededHistory:
    """A seeded database file and what is in it."""

    path: Path
    conversations: int
    messages: int
    long_conversation_id: int  # the one with `long_messages` messages
    long_messages: int
    seconds_to_seed: float

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    @property
    def meta_path(self) -> Path:
        return self.path.with_suffix(".json")


class TextSource:
    """Message texts cut from one long markdown corpus (the fake's generator), at random places."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._corpus = "".join(markdown_tokens(400_000, 5))  # ~2 MB: cuts rarely repeat

    def cut(self, low: int, high: int, mode: int) -> str:
        size = int(self._rng.triangular(low, high, mode))
        start = self._rng.randrange(0, len(self._corpus) - size)
        return self._corpus[start : start + size].strip() or "ok"


class UnspacedText:
    """Chinese, Japanese or Korean text: words drawn by frequency, sentences of 4–15 words, English mixed in."""

    def __init__(self, language: str, rng: random.Random) -> None:
        self._language = language
        self._rng = rng
        self._words = WORDS[language].split()
        self._weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(self._words))))

    def write(self, low: int, high: int, mode: int) -> str:
        size = int(self._rng.triangular(low, high, mode))
        pieces: list[str] = []
        length = 0
        while length < size:
            sentence = self._sentence()
            pieces.append(sentence)
            length += len(sentence)
        return "".join(pieces)[:size].strip() or self._words[0]

    def _sentence(self) -> str:
        words = self._rng.choices(self._words, cum_weights=self._weights, k=self._rng.randint(4, 15))
        if self._rng.random() < 0.3:
            words.insert(self._rng.randrange(len(words)), f" {self._rng.choice(MIXED_ENGLISH)} ")
        if self._language == "ko":  # Korean puts spaces between words, particles attached
            return " ".join(word + self._rng.choice(KOREAN_PARTICLES) for word in words) + SENTENCE_END["ko"]
        return "".join(words) + SENTENCE_END[self._language]


def conversation_languages(count: int, rng: random.Random) -> list[str]:
    """The language of each conversation; the first (the long one the browser opens) is English."""
    choices = ["en", *LANGUAGES]
    weights = [1 - sum(LANGUAGES.values()), *LANGUAGES.values()]
    return ["en"] + rng.choices(choices, weights=weights, k=count - 1)


def conversation_sizes(conversations: int, messages: int, long_messages: int, rng: random.Random) -> list[int]:
    """Even message counts (question + answer pairs) summing to `messages`; the first is `long_messages`."""
    pairs_left = (messages - long_messages) // 2
    others = conversations - 1
    weights = [rng.random() + 0.05 for _ in range(others)]
    scale = (pairs_left - others) / sum(weights)
    pairs = [1 + int(w * scale) for w in weights]
    for index in rng.sample(range(others), pairs_left - sum(pairs)):  # hand out the rounding remainder
        pairs[index] += 1
    return [long_messages] + [2 * p for p in pairs]


def _rows(sizes: list[int], user_id: int, rng: random.Random) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each conversation row with its message rows; ids are assigned here so parent chains need no round trip."""
    english = TextSource(rng)
    unspaced = {language: UnspacedText(language, rng) for language in LANGUAGES}
    message_id = 0
    for conversation_id, (size, language) in enumerate(zip(sizes, conversation_languages(len(sizes), rng)), start=1):
        if language == "en":
            texts, user_chars, assistant_chars = english.cut, USER_CHARS, ASSISTANT_CHARS
        else:
            texts, user_chars, assistant_chars = unspaced[language].write, CJK_USER_CHARS, CJK_ASSISTANT_CHARS
        started = NOW - timedelta(days=365 * rng.random())
        messages = []
        for index in range(size):
            message_id += 1
            role = "user" if index % 2 == 0 else "assistant"
            at = started + timedelta(seconds=30 * index)
            messages.append({
                "id": message_id,
                "conversation_id": conversation_id,
                "parent_id": message_id - 1 if index else None,
                "role": role,
                "content": texts(*(user_chars if role == "user" else assistant_chars)),
                "model": MODEL if role == "assistant" else None,
                "status": "complete",
                "finish_reason": "stop" if role == "assistant" else None,
                "created_at": at,
                "updated_at": at,
            })
        conversation = {
            "id": conversation_id,
            "user_id": user_id,
            "endpoint_id": None,
            "title": title_from_text(messages[0]["content"]),
            "model": MODEL,
            "system_prompt": "",
            "params": {},
            "current_leaf_id": message_id,
            "created_at": started,
            "updated_at": messages[-1]["created_at"],
        }
        yield conversation, messages


def _insert(connection: Connection, conversations: list[dict[str, Any]], messages: list[dict[str, Any]]) -> None:
    # A commit per batch lets SQLite checkpoint the WAL as it goes; one huge transaction slows down as the WAL grows.
    with connection.begin():
        if conversations:  # first: the messages' foreign key points at them
            connection.execute(insert(Conversation.__table__), conversations)
        if messages:
            connection.execute(insert(Message.__table__), messages)


def seed(path: Path, conversations: int, messages: int, long_messages: int, log: Any = print) -> SeededHistory:
    started = time.monotonic()
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    rng = random.Random(SEED_VERSION)
    sizes = conversation_sizes(conversations, messages, long_messages, rng)
    database = Database(f"sqlite:///{path}")
    try:
        upgrade_to_head(database.engine)
        with database.engine.begin() as connection:
            user_id = connection.execute(
                insert(User.__table__).values(name=LOCAL_USER_NAME, is_admin=True, created_at=NOW)
            ).inserted_primary_key[0]
        with database.engine.connect() as connection:
            # A throw-away file being built: no fsync per commit (set on the driver connection, outside BEGIN).
            connection.connection.dbapi_connection.execute("PRAGMA synchronous=OFF")
            conversation_batch: list[dict[str, Any]] = []
            message_batch: list[dict[str, Any]] = []
            done = 0
            for conversation, rows in _rows(sizes, user_id, rng):
                conversation_batch.append(conversation)
                message_batch.extend(rows)
                if len(message_batch) >= BATCH:
                    _insert(connection, conversation_batch, message_batch)
                    done += len(message_batch)
                    conversation_batch, message_batch = [], []
                    if done % 200_000 < BATCH:
                        log(f"  seeded {done:,} messages ({time.monotonic() - started:.0f} s)")
            _insert(connection, conversation_batch, message_batch)
        with database.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # one self-contained file to copy
    finally:
        database.dispose()
    history = SeededHistory(path, conversations, messages, 1, long_messages, time.monotonic() - started)
    history.meta_path.write_text(json.dumps({**asdict(history), "path": str(path), "seed_version": SEED_VERSION}))
    return history


def cached(conversations: int = 10_000, messages: int = 1_000_000, long_messages: int = 1_000,
           force: bool = False, log: Any = print) -> SeededHistory:
    """The cached seeded database, built on first use (or with `force`), migrated to the current head."""
    path = CACHE_DIR / f"history-v{SEED_VERSION}-{conversations}c-{messages}m-{long_messages}l.db"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists() and not force:
        data = json.loads(meta.read_text())
        data.pop("seed_version", None)
        history = SeededHistory(**{**data, "path": path})
    else:
        log(f"seeding {conversations:,} conversations / {messages:,} messages into {path} (cached for re-runs)")
        history = seed(path, conversations, messages, long_messages, log)
        log(f"  seeded in {history.seconds_to_seed:.0f} s, {path.stat().st_size / 1e6:.0f} MB")
    _migrate(history, log)
    return history


def _migrate(history: SeededHistory, log: Any) -> None:
    """A migration added since the seed is applied once to the cached file, not at every benchmark start."""
    database = Database(history.url)
    try:
        if current_revision(database.engine) != head_revision():
            started = time.monotonic()
            upgrade_to_head(database.engine)
            with database.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            log(f"  migrated the cached history to {head_revision()} in {time.monotonic() - started:.1f} s")
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--long", type=int, default=1_000, help="messages in the long conversation (id 1)")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)
    history = cached(args.conversations, args.messages, args.long, args.force)
    print(f"{history.path}: {history.conversations:,} conversations, {history.messages:,} messages, "
          f"conversation {history.long_conversation_id} has {history.long_messages:,}")


if __name__ == "__main__":
    main()
